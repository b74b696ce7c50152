nav-jobs = Jobs
jobs-title = Jobs
jobs-help = Work the server does on its own, on a schedule. On several servers sharing one database each job runs on one of them at a time. Shown: how often each job is due, which server runs it now, and its latest runs.
jobs-every-seconds = { $n ->
    [one] every second
   *[other] every { $n } seconds
}
jobs-every-minutes = { $n ->
    [one] every minute
   *[other] every { $n } minutes
}
jobs-every-hours = { $n ->
    [one] every hour
   *[other] every { $n } hours
}
jobs-every-days = { $n ->
    [one] every day
   *[other] every { $n } days
}
jobs-kind-access-review-deadlines = Closes access-review campaigns whose deadline has passed: revokes or flags what nobody reviewed and keeps the report.
jobs-kind-access-review-reminders = Works out which reviewers to remind of their open access-review items (at the start, then daily in the last days).
jobs-held-by = running on
jobs-lease-until = lease until
jobs-status = Status
jobs-status-running = running
jobs-status-succeeded = succeeded
jobs-status-failed = failed
jobs-started = Started
jobs-finished = Finished
jobs-node = Server
jobs-progress = Progress
jobs-summary = Summary
jobs-no-runs = Not run yet.
