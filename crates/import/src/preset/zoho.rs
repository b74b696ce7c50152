//! Zoho CRM export headers (Contacts, Accounts, Leads).
//!
//! Zoho exports use the field labels of the user's interface language, so
//! each field lists the English label, Zoho's API name where it differs
//! only by `_` (normalised away, so `First_Name` matches "First Name"), and
//! the Simplified-Chinese labels. Variants included:
//!
//! | field | English | Chinese |
//! |---|---|---|
//! | `name` | contacts, leads: "First Name" + "Last Name" (space, the Western order), or "Full Name"; accounts: "Account Name" | "姓" + "名" (no separator), or "姓名"; accounts: "客户名称" |
//! | `company` | "Account Name" (contacts, accounts), "Company" (leads) | "客户名称"; leads: "公司", "公司名称" |
//! | `title` | "Title", "Designation" (leads) | "职位", "职务", "头衔" |
//! | `email` | "Email", "E-mail", "Email Address" | "邮箱", "电子邮件", "电子邮箱" |
//! | `phone` / `mobile` | "Phone" / "Mobile" | "电话" / "手机" |
//! | `birth_date` | "Date of Birth" | "出生日期", "生日" |
//! | `address` | Mailing/Billing/plain "Street", "City", "State", "Zip"/"Code"/"Zip Code", "Country" joined with ", " | 省份 + 城市 + 街道 of the same group, no separator |
//! | `region` | "Mailing State" / "Billing State" / "State" | "邮寄省份", "账单省份", "省份"… |
//! | `annual_revenue` | "Annual Revenue" | "年收入" |
//! | `source` | "Lead Source" | "线索来源" |
//! | `notes` | "Description" | "描述" |
//! | `national_id` / `bank_account` | — | "身份证号", "证件号码" / "银行账号", "开户账号" (custom fields) |
//!
//! The Chinese labels follow Zoho CRM's Simplified-Chinese interface as
//! documented publicly; they were not verified against a live export, which
//! is why several spellings are listed where Zoho's wording has varied.

//! A joined source lists only the labels of its own language: the first
//! source with any column present wins, so an English join that also knew a
//! Chinese state label would claim a Chinese file and drop its other parts.

use super::PresetSource::{Column, Joined};
use super::{BANK_ACCOUNT, NATIONAL_ID, PresetField, PresetTable};

const PERSON_NAME: PresetField = PresetField {
    field: "name",
    sources: &[
        Joined { parts: &[&["First Name"], &["Last Name"]], separator: " ", drop_repeated_parts: false },
        Joined { parts: &[&["姓"], &["名"]], separator: "", drop_repeated_parts: false },
        Column(&["Full Name", "姓名"]),
    ],
};

const TITLE: PresetField =
    PresetField { field: "title", sources: &[Column(&["Title", "Designation", "职位", "职务", "头衔"])] };

const EMAIL: PresetField = PresetField {
    field: "email",
    sources: &[Column(&["Email", "E-mail", "Email Address", "邮箱", "电子邮件", "电子邮箱"])],
};

const PHONE: PresetField = PresetField { field: "phone", sources: &[Column(&["Phone", "电话"])] };

const MOBILE: PresetField = PresetField { field: "mobile", sources: &[Column(&["Mobile", "手机"])] };

const LEAD_SOURCE: PresetField = PresetField { field: "source", sources: &[Column(&["Lead Source", "线索来源"])] };

const DESCRIPTION: PresetField = PresetField { field: "notes", sources: &[Column(&["Description", "描述"])] };

const ANNUAL_REVENUE: PresetField =
    PresetField { field: "annual_revenue", sources: &[Column(&["Annual Revenue", "年收入"])] };

const MAILING_STATE: &[&str] = &["Mailing State", "邮寄省份", "邮寄省/州", "邮寄州/省", "邮寄州"];

pub(super) const CONTACTS: PresetTable = PresetTable {
    fields: &[
        PERSON_NAME,
        PresetField { field: "company", sources: &[Column(&["Account Name", "客户名称"])] },
        TITLE,
        EMAIL,
        PHONE,
        MOBILE,
        PresetField { field: "birth_date", sources: &[Column(&["Date of Birth", "出生日期", "生日"])] },
        PresetField {
            field: "address",
            sources: &[
                Joined {
                    parts: &[
                        &["Mailing Street"],
                        &["Mailing City"],
                        &["Mailing State"],
                        &["Mailing Zip", "Mailing Code"],
                        &["Mailing Country"],
                    ],
                    separator: ", ",
                    drop_repeated_parts: false,
                },
                Joined {
                    parts: &[&["邮寄省份", "邮寄省/州", "邮寄州/省", "邮寄州"], &["邮寄城市"], &["邮寄街道"]],
                    separator: "",
                    drop_repeated_parts: true,
                },
            ],
        },
        PresetField { field: "region", sources: &[Column(MAILING_STATE)] },
        LEAD_SOURCE,
        DESCRIPTION,
        NATIONAL_ID,
        BANK_ACCOUNT,
    ],
    signature: &[
        "Contact Owner",
        "联系人所有者",
        "Reports To",
        "汇报对象",
        "Other Street",
        "其他街道",
        "Home Phone",
        "家庭电话",
        "Assistant",
        "助理",
    ],
};

const BILLING_STATE: &[&str] = &["Billing State", "账单省份", "账单省/州", "开票省份", "开票省/州"];

pub(super) const ACCOUNTS: PresetTable = PresetTable {
    fields: &[
        PresetField { field: "name", sources: &[Column(&["Account Name", "客户名称"])] },
        PresetField { field: "company", sources: &[Column(&["Account Name", "客户名称"])] },
        PHONE,
        PresetField {
            field: "address",
            sources: &[
                Joined {
                    parts: &[
                        &["Billing Street"],
                        &["Billing City"],
                        &["Billing State"],
                        &["Billing Code", "Billing Zip"],
                        &["Billing Country"],
                    ],
                    separator: ", ",
                    drop_repeated_parts: false,
                },
                Joined {
                    parts: &[
                        &["账单省份", "账单省/州", "开票省份", "开票省/州"],
                        &["账单城市", "开票城市"],
                        &["账单街道", "开票街道"],
                    ],
                    separator: "",
                    drop_repeated_parts: true,
                },
            ],
        },
        PresetField { field: "region", sources: &[Column(BILLING_STATE)] },
        ANNUAL_REVENUE,
        DESCRIPTION,
        NATIONAL_ID,
        BANK_ACCOUNT,
    ],
    signature: &[
        "Account Owner",
        "客户所有者",
        "Account Number",
        "客户编号",
        "Account Site",
        "客户站点",
        "Parent Account",
        "父客户",
        "上级客户",
        "Ticker Symbol",
        "股票代码",
        "Ownership",
        "Account Type",
        "客户类型",
    ],
};

const STATE: &[&str] = &["State", "省份", "省/州", "州/省"];

pub(super) const LEADS: PresetTable = PresetTable {
    fields: &[
        PERSON_NAME,
        PresetField { field: "company", sources: &[Column(&["Company", "公司", "公司名称"])] },
        TITLE,
        EMAIL,
        PHONE,
        MOBILE,
        PresetField {
            field: "address",
            sources: &[
                Joined {
                    parts: &[&["Street"], &["City"], &["State"], &["Zip Code", "Zip"], &["Country"]],
                    separator: ", ",
                    drop_repeated_parts: false,
                },
                Joined {
                    parts: &[&["省份", "省/州", "州/省"], &["城市"], &["街道"]],
                    separator: "",
                    drop_repeated_parts: true,
                },
            ],
        },
        PresetField { field: "region", sources: &[Column(STATE)] },
        ANNUAL_REVENUE,
        LEAD_SOURCE,
        DESCRIPTION,
        NATIONAL_ID,
        BANK_ACCOUNT,
    ],
    signature: &["Lead Owner", "线索所有者", "Lead Status", "线索状态", "No. of Employees", "员工数"],
};
