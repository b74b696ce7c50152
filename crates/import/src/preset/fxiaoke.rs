//! Fxiaoke (纷享销客) CRM export headers: the 客户 (customer / account,
//! `AccountObj`) and 联系人 (contact, `ContactObj`) objects.
//!
//! Fxiaoke exports use the field labels of the interface language.
//! Variants included:
//!
//! | field | Chinese | English interface |
//! |---|---|---|
//! | `name` | 客户: "客户名称"; 联系人: "姓名", "联系人姓名" | "Customer Name"; "Name", "Contact Name" |
//! | `company` | "客户名称" (联系人: also "公司", "公司名称") | "Customer Name" |
//! | `phone` | "电话", "电话1" | "Phone", "Tel" |
//! | `mobile` | "手机", "手机1", "手机号", "手机号码" | "Mobile" |
//! | `email` | "邮箱", "电子邮箱" | "Email", "E-mail" |
//! | `title` | "职务", "职位" | "Position", "Job Title" |
//! | `birth_date` | "生日", "出生日期" | "Birthday", "Date of Birth" |
//! | `address` | "省"/"省份" + "市"/"城市" + "区"/"区县" + "详细地址", no separator (parts repeated inside 详细地址 dropped), else "地址" | "Province" + "City" + "District" + "Detailed Address" (space), else "Address" |
//! | `region` | "省", "省份" | "Province" |
//! | `source` | "来源", "客户来源" | "Source" |
//! | `notes` | "备注" | "Remarks", "Remark" |
//! | `national_id` / `bank_account` | "身份证号", "证件号码" / "银行账号", "开户账号" (custom fields) | — |
//!
//! Addresses keep the Chinese large-to-small order in both interfaces,
//! because the values are Chinese addresses either way. The labels follow
//! Fxiaoke's standard object fields as publicly documented; they were not
//! verified against a live export.

use super::PresetSource::{Column, Joined};
use super::{BANK_ACCOUNT, NATIONAL_ID, PresetField, PresetTable};

const PHONE: PresetField = PresetField { field: "phone", sources: &[Column(&["电话", "电话1", "Phone", "Tel"])] };

const EMAIL: PresetField =
    PresetField { field: "email", sources: &[Column(&["邮箱", "电子邮箱", "Email", "E-mail"])] };

const REMARKS: PresetField = PresetField { field: "notes", sources: &[Column(&["备注", "Remarks", "Remark"])] };

const PROVINCE: &[&str] = &["省", "省份", "Province"];

const ADDRESS: PresetField = PresetField {
    field: "address",
    sources: &[
        Joined {
            parts: &[&["省", "省份"], &["市", "城市"], &["区", "区县"], &["详细地址"]],
            separator: "",
            drop_repeated_parts: true,
        },
        Column(&["地址"]),
        Joined {
            parts: &[&["Province"], &["City"], &["District"], &["Detailed Address"]],
            separator: " ",
            drop_repeated_parts: true,
        },
        Column(&["Address"]),
    ],
};

pub(super) const CUSTOMERS: PresetTable = PresetTable {
    fields: &[
        PresetField { field: "name", sources: &[Column(&["客户名称", "Customer Name"])] },
        PresetField { field: "company", sources: &[Column(&["客户名称", "Customer Name"])] },
        PHONE,
        EMAIL,
        ADDRESS,
        PresetField { field: "region", sources: &[Column(PROVINCE)] },
        PresetField { field: "source", sources: &[Column(&["来源", "客户来源", "Source"])] },
        REMARKS,
        NATIONAL_ID,
        BANK_ACCOUNT,
    ],
    signature: &[
        "客户级别",
        "Customer Level",
        "成交状态",
        "Deal Status",
        "负责人",
        "Owner",
        "归属部门",
        "Owner Department",
        "生命状态",
        "Life Status",
        "最后跟进时间",
        "Last Follow-up Time",
    ],
};

pub(super) const CONTACTS: PresetTable = PresetTable {
    fields: &[
        PresetField { field: "name", sources: &[Column(&["姓名", "联系人姓名", "Name", "Contact Name"])] },
        PresetField {
            field: "company", sources: &[Column(&["客户名称", "公司", "公司名称", "Customer Name"])]
        },
        PresetField { field: "title", sources: &[Column(&["职务", "职位", "Position", "Job Title"])] },
        PHONE,
        PresetField {
            field: "mobile", sources: &[Column(&["手机", "手机1", "手机号", "手机号码", "Mobile"])]
        },
        EMAIL,
        PresetField {
            field: "birth_date", sources: &[Column(&["生日", "出生日期", "Birthday", "Date of Birth"])]
        },
        ADDRESS,
        REMARKS,
        NATIONAL_ID,
        BANK_ACCOUNT,
    ],
    signature: &["负责人", "Owner", "性别", "Gender", "部门", "Department"],
};
