# 通知，按收件人的语言呈现（tutela_core::notify）。纯文本：也会通过电子邮件发出。
# 只写账户、记录编号、时间和地址；从不写客户字段的值，也从不写任何机密。

notice-footer = —— Tutela 客户安全管理系统。您的通知收件箱：{ $inbox }

notice-sign-in-new-device-subject = 您的 Tutela 账户有新的登录
notice-sign-in-new-device-body =
    您的账户 { $account } 刚刚从一个以前未使用过的设备或网络登录。

    时间（UTC）：{ $time }
    地址：{ $address }
    浏览器：{ $browser }
    验证方式：{ $method ->
        [passkey] 通行密钥
        [sso] 单点登录（身份提供方的第二因素）
        [recovery-code] 恢复码
       *[totp] 身份验证器验证码
    }

    如果是您本人，无需任何操作。
    如果不是您本人：请打开账户页面（{ $link }），结束那里的所有会话，修改密码，并立即告知安全团队。

notice-break-glass-request-subject = { $status ->
        [active] 已授予 { $requester } 紧急访问
       *[pending] { $requester } 申请紧急访问
    }
notice-break-glass-request-body =
    { $requester } 对客户记录 { $record } 使用了紧急访问（break-glass）。

    状态：{ $status ->
        [active] 已立即授予 { $minutes } 分钟（策略不要求审批）
       *[pending] 等待审批；申请 { $minutes } 分钟
    }
    时间（UTC）：{ $time }
    理由：{ $justification_length } 个字符；请在紧急访问页面查看。

    请立即审查：{ $link }
    您收到此通知，是因为您负责审批访问申请或查阅审计日志。

notice-break-glass-decision-subject = 您的紧急访问申请{ $status ->
        [active] 已获批准
       *[denied] 被拒绝
    }
notice-break-glass-decision-body =
    您对客户记录 { $record } 的紧急访问申请{ $status ->
        [active] 已由 { $approver } 批准；访问将于 { $until }（UTC）结束。
       *[denied] 已被 { $approver } 拒绝。
    }

    申请详情：{ $link }

notice-access-review-reminder-subject = 访问复核“{ $campaign }”：有 { $open } 项待您决定
notice-access-review-reminder-body =
    访问复核“{ $campaign }”请您确认或撤销 { $open } 项角色或共享。

    截止时间（UTC）：{ $deadline }
    到期仍无人决定的项目，将按复核活动的设定处理（撤销或标记）。

    您的复核：{ $link }

notice-test-subject = Tutela 测试邮件
notice-test-body =
    这是 Tutela 于 { $time }（UTC）发出的测试邮件，用于检查电子邮件设置。
    无需任何操作。
