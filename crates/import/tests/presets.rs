//! Each preset against sample exports with English and Chinese headers, and
//! preset detection.

use crate::common;

use common::{gb18030, ok_rows, open, pairs, write_file};
use tutela_import::{Encoding, Preset, detect_preset};

/// Reads a one-row CSV export with `preset` and returns the row's pairs.
fn import_one(preset: Preset, csv: &str) -> Vec<(String, String)> {
    let file = write_file("export.csv", csv.as_bytes());
    let rows = ok_rows(&file, Encoding::Auto, &preset.mapping());
    assert_eq!(rows.len(), 1, "{preset}");
    assert_eq!(rows[0].line, 2);
    rows[0].values.clone()
}

fn expect(values: &[(String, String)], expected: &[(&str, &str)]) {
    let actual: Vec<(&str, &str)> = values.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    assert_eq!(actual, expected);
}

fn header_row(csv: &str) -> Vec<String> {
    csv.lines().next().unwrap().split(',').map(str::to_owned).collect()
}

const ZOHO_CONTACTS_EN: &str = "Record Id,Contact Owner,Lead Source,First Name,Last Name,Account Name,Email,Title,Phone,Mobile,Date of Birth,Mailing Street,Mailing City,Mailing State,Mailing Zip,Mailing Country,Description\n\
zcrm_1,Ann Lee,Web Site,John,Smith,Acme Ltd,john@acme.com,CTO,+1 555 0100,+1 555 0101,1980-04-02,1 Main St,Springfield,IL,62701,USA,VIP\n";

const ZOHO_CONTACTS_ZH: &str = "联系人所有者,线索来源,名,姓,客户名称,邮箱,职位,电话,手机,出生日期,邮寄街道,邮寄城市,邮寄省份,邮寄邮编,邮寄国家,描述,身份证号\n\
王经理,展会,三,张,深圳某某科技有限公司,zhangsan@example.cn,销售总监,0755-88886666,13800138000,1985-06-15,科技园南区1号,深圳市,广东省,518057,中国,重要客户,440301198506150011\n";

const ZOHO_ACCOUNTS_EN: &str = "Account Owner,Account Name,Phone,Website,Annual Revenue,Billing Street,Billing City,Billing State,Billing Code,Billing Country,Description\n\
Ann Lee,Globex Corp,+1 555 0200,globex.example,5000000,500 Oak Ave,Portland,OR,97201,USA,Key account\n";

const ZOHO_ACCOUNTS_ZH: &str = "客户所有者,客户名称,电话,年收入,账单街道,账单城市,账单省份,账单邮编,账单国家,描述,银行账号\n\
王经理,杭州某某网络有限公司,0571-88889999,12000000,文三路90号,杭州市,浙江省,310012,中国,战略客户,6222020200001234567\n";

const ZOHO_LEADS_EN: &str = "Lead Owner,Company,First Name,Last Name,Designation,Email,Phone,Mobile,Lead Source,Lead Status,Annual Revenue,Street,City,State,Zip Code,Country,Description\n\
Ann Lee,Initech,Peter,Gibbons,Engineer,peter@initech.example,+1 555 0300,+1 555 0301,Cold Call,Contacted,2000000,4120 Freidrich Ln,Austin,TX,78744,USA,Asked for demo\n";

const ZOHO_LEADS_ZH: &str = "线索所有者,公司,名,姓,职位,邮箱,电话,手机,线索来源,线索状态,年收入,街道,城市,省份,邮编,国家,描述\n\
王经理,成都某某餐饮管理有限公司,小明,李,采购经理,lxm@example.cn,028-66667777,13912345678,广告,已联系,3000000,人民南路四段1号,成都市,四川省,610041,中国,需要报价\n";

const FXIAOKE_CUSTOMERS_ZH: &str = "客户名称,客户级别,负责人,电话,邮箱,国家,省,市,区,详细地址,来源,备注,成交状态\n\
上海某某贸易有限公司,A类,李娜,021-66668888,info@example.cn,中国,上海市,上海市,浦东新区,上海市浦东新区世纪大道100号,展会,老客户,已成交\n";

const FXIAOKE_CUSTOMERS_EN: &str = "Customer Name,Customer Level,Owner,Phone,Email,Country,Province,City,District,Detailed Address,Source,Remarks,Deal Status\n\
Shenzhen Example Tech,A,Li Na,0755-12345678,sales@example.cn,China,Guangdong,Shenzhen,Nanshan,No. 1 Keyuan Road,Trade show,Repeat buyer,Won\n";

const FXIAOKE_CONTACTS_ZH: &str = "姓名,客户名称,手机,电话,邮箱,职务,部门,性别,生日,备注,负责人,证件号码\n\
陈静,上海某某贸易有限公司,13700001111,021-66668888-801,chenjing@example.cn,财务经理,财务部,女,1990-03-08,只接受邮件联系,李娜,310101199003080022\n";

const FXIAOKE_CONTACTS_EN: &str = "Name,Customer Name,Mobile,Phone,Email,Position,Department,Gender,Birthday,Remarks,Owner\n\
Chen Jing,Shanghai Example Trading,13700001111,021-66668888,chenjing@example.cn,Finance Manager,Finance,F,1990-03-08,Email only,Li Na\n";

#[test]
fn zoho_contacts_english() {
    let values = import_one(Preset::ZohoContacts, ZOHO_CONTACTS_EN);
    expect(
        &values,
        &[
            ("name", "John Smith"),
            ("company", "Acme Ltd"),
            ("title", "CTO"),
            ("email", "john@acme.com"),
            ("phone", "+1 555 0100"),
            ("mobile", "+1 555 0101"),
            ("birth_date", "1980-04-02"),
            ("address", "1 Main St, Springfield, IL, 62701, USA"),
            ("region", "IL"),
            ("source", "Web Site"),
            ("notes", "VIP"),
        ],
    );
}

#[test]
fn zoho_contacts_chinese() {
    let values = import_one(Preset::ZohoContacts, ZOHO_CONTACTS_ZH);
    expect(
        &values,
        &[
            ("name", "张三"),
            ("company", "深圳某某科技有限公司"),
            ("title", "销售总监"),
            ("email", "zhangsan@example.cn"),
            ("phone", "0755-88886666"),
            ("mobile", "13800138000"),
            ("birth_date", "1985-06-15"),
            ("address", "广东省深圳市科技园南区1号"),
            ("region", "广东省"),
            ("source", "展会"),
            ("notes", "重要客户"),
            ("national_id", "440301198506150011"),
        ],
    );
}

#[test]
fn zoho_accounts_english_and_chinese() {
    let values = import_one(Preset::ZohoAccounts, ZOHO_ACCOUNTS_EN);
    expect(
        &values,
        &[
            ("name", "Globex Corp"),
            ("company", "Globex Corp"),
            ("phone", "+1 555 0200"),
            ("address", "500 Oak Ave, Portland, OR, 97201, USA"),
            ("region", "OR"),
            ("annual_revenue", "5000000"),
            ("notes", "Key account"),
        ],
    );
    let values = import_one(Preset::ZohoAccounts, ZOHO_ACCOUNTS_ZH);
    expect(
        &values,
        &[
            ("name", "杭州某某网络有限公司"),
            ("company", "杭州某某网络有限公司"),
            ("phone", "0571-88889999"),
            ("address", "浙江省杭州市文三路90号"),
            ("region", "浙江省"),
            ("annual_revenue", "12000000"),
            ("notes", "战略客户"),
            ("bank_account", "6222020200001234567"),
        ],
    );
}

#[test]
fn zoho_leads_english_and_chinese() {
    let values = import_one(Preset::ZohoLeads, ZOHO_LEADS_EN);
    expect(
        &values,
        &[
            ("name", "Peter Gibbons"),
            ("company", "Initech"),
            ("title", "Engineer"),
            ("email", "peter@initech.example"),
            ("phone", "+1 555 0300"),
            ("mobile", "+1 555 0301"),
            ("address", "4120 Freidrich Ln, Austin, TX, 78744, USA"),
            ("region", "TX"),
            ("annual_revenue", "2000000"),
            ("source", "Cold Call"),
            ("notes", "Asked for demo"),
        ],
    );
    let values = import_one(Preset::ZohoLeads, ZOHO_LEADS_ZH);
    expect(
        &values,
        &[
            ("name", "李小明"),
            ("company", "成都某某餐饮管理有限公司"),
            ("title", "采购经理"),
            ("email", "lxm@example.cn"),
            ("phone", "028-66667777"),
            ("mobile", "13912345678"),
            ("address", "四川省成都市人民南路四段1号"),
            ("region", "四川省"),
            ("annual_revenue", "3000000"),
            ("source", "广告"),
            ("notes", "需要报价"),
        ],
    );
}

#[test]
fn fxiaoke_customers_chinese_in_gb18030() {
    let file = write_file("客户.csv", &gb18030(FXIAOKE_CUSTOMERS_ZH));
    let reader = open(&file, Encoding::Auto, &Preset::FxiaokeCustomers.mapping()).unwrap();
    assert_eq!(reader.unmapped_headers(), ["客户级别", "负责人", "国家", "成交状态"]);
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(
        pairs(&rows[0]),
        [
            ("name", "上海某某贸易有限公司"),
            ("company", "上海某某贸易有限公司"),
            ("phone", "021-66668888"),
            ("email", "info@example.cn"),
            ("address", "上海市浦东新区世纪大道100号"),
            ("region", "上海市"),
            ("source", "展会"),
            ("notes", "老客户"),
        ]
    );
}

#[test]
fn fxiaoke_customers_english() {
    let values = import_one(Preset::FxiaokeCustomers, FXIAOKE_CUSTOMERS_EN);
    expect(
        &values,
        &[
            ("name", "Shenzhen Example Tech"),
            ("company", "Shenzhen Example Tech"),
            ("phone", "0755-12345678"),
            ("email", "sales@example.cn"),
            ("address", "Guangdong Shenzhen Nanshan No. 1 Keyuan Road"),
            ("region", "Guangdong"),
            ("source", "Trade show"),
            ("notes", "Repeat buyer"),
        ],
    );
}

#[test]
fn fxiaoke_contacts_chinese_and_english() {
    let values = import_one(Preset::FxiaokeContacts, FXIAOKE_CONTACTS_ZH);
    expect(
        &values,
        &[
            ("name", "陈静"),
            ("company", "上海某某贸易有限公司"),
            ("title", "财务经理"),
            ("phone", "021-66668888-801"),
            ("mobile", "13700001111"),
            ("email", "chenjing@example.cn"),
            ("birth_date", "1990-03-08"),
            ("notes", "只接受邮件联系"),
            ("national_id", "310101199003080022"),
        ],
    );
    let values = import_one(Preset::FxiaokeContacts, FXIAOKE_CONTACTS_EN);
    expect(
        &values,
        &[
            ("name", "Chen Jing"),
            ("company", "Shanghai Example Trading"),
            ("title", "Finance Manager"),
            ("phone", "021-66668888"),
            ("mobile", "13700001111"),
            ("email", "chenjing@example.cn"),
            ("birth_date", "1990-03-08"),
            ("notes", "Email only"),
        ],
    );
}

#[test]
fn a_preset_with_none_of_its_columns_names_what_it_expected() {
    let file = write_file("c.csv", b"Foo,Bar\n1,2\n");
    let message = open(&file, Encoding::Auto, &Preset::FxiaokeContacts.mapping()).unwrap_err().to_string();
    assert!(message.contains("\"姓名\"") && message.contains("\"Foo\", \"Bar\""), "{message}");
}

#[test]
fn detect_preset_picks_the_export() {
    for (csv, preset) in [
        (ZOHO_CONTACTS_EN, Preset::ZohoContacts),
        (ZOHO_CONTACTS_ZH, Preset::ZohoContacts),
        (ZOHO_ACCOUNTS_EN, Preset::ZohoAccounts),
        (ZOHO_ACCOUNTS_ZH, Preset::ZohoAccounts),
        (ZOHO_LEADS_EN, Preset::ZohoLeads),
        (ZOHO_LEADS_ZH, Preset::ZohoLeads),
        (FXIAOKE_CUSTOMERS_ZH, Preset::FxiaokeCustomers),
        (FXIAOKE_CUSTOMERS_EN, Preset::FxiaokeCustomers),
        (FXIAOKE_CONTACTS_ZH, Preset::FxiaokeContacts),
        (FXIAOKE_CONTACTS_EN, Preset::FxiaokeContacts),
    ] {
        assert_eq!(detect_preset(&header_row(csv)), Some(preset), "{csv}");
    }
}

#[test]
fn detect_preset_declines_weak_or_ambiguous_matches() {
    let headers = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(detect_preset(&headers(&["Name", "Foo", "Bar"])), None);
    assert_eq!(detect_preset(&headers(&["Email"])), None);
    // Both Zoho person modules have these; neither can be told apart.
    assert_eq!(detect_preset(&headers(&["First Name", "Last Name", "Email"])), None);
    assert_eq!(detect_preset(&[]), None);
}
