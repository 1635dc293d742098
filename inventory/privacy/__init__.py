"""Privacy operations on cases: anonymisation (the retention rules and "anonymise now") and
the subject-access export. Built on top of cases, requests, jobs and stock, whose records of
a survivor it erases or gathers."""
