"""Settings for each environment SafeHold runs in.

`SAFEHOLD_CONFIG` picks one (development by default). Development keeps generated
secrets under `instance/`; production takes everything from the environment and refuses to
start without it.
"""
from config.settings import (
    BaseConfig,
    ConfigurationError,
    DevelopmentConfig,
    ProductionConfig,
    TestConfig,
    config_by_name,
)

__all__ = [
    "BaseConfig",
    "ConfigurationError",
    "DevelopmentConfig",
    "ProductionConfig",
    "TestConfig",
    "config_by_name",
]
