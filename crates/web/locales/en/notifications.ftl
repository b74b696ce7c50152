nav-notifications = Notifications
notifications-title = Notifications
notifications-help = Notices for you: sign-ins from a new device, requests you may have to act on. When e-mail is set up they are e-mailed to you too, in your notice language.
notifications-unread-count = { $count ->
        [one] 1 unread notice
       *[other] { $count } unread notices
    }
notifications-received = Received
notifications-notice = Notice
notifications-unread = Unread
notifications-open = Open
notifications-read-at = Read
notifications-mark-read = Mark read
notifications-none = No notices.
notifications-newest = ← Newest
notifications-older = Older →
notifications-notice-read = The notice was marked read.
notifications-notice-language = Your notice language was saved.
notifications-language = Notice language
notifications-language-hint = The language of your notices here and of the e-mails you get. The language switch at the top changes only this browser's console, not this.
notifications-error-language = Notice language: choose 中文 or English.
notifications-deliveries = Delivery status
notifications-deliveries-help = The newest deliveries of notices outside the console (e-mail) and how each went. A pending delivery is tried again with growing waits; a failed one was given up.
notifications-deliveries-none = No deliveries. Without e-mail settings notices stay in the inbox only.
notifications-filter-all = All
notifications-channel = Channel
notifications-recipient = Recipient
notifications-kind = Kind
notifications-status = Status
notifications-status-pending = Pending
notifications-status-sent = Sent
notifications-status-failed = Failed
notifications-attempts = Attempts
notifications-last-error = Last error
notifications-next-attempt = Next attempt
