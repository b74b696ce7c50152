//! OpenAPI schemas for the string-valued vocabulary of access (data scopes, field levels,
//! grantee kinds, share access, the organisation default, permissions), built from the
//! domain's own lists so that the document names exactly the values the domain accepts.
//! The wire type stays a string: a bad value is answered by the domain with a 422 naming
//! the field, not by the JSON decoder.

use tutela_core::access::{DataScope, FieldAccess, GranteeKind, NetworkSubject, OrgDefault, ShareAccess};
use tutela_core::policy::Permission;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

fn one_of(values: impl IntoIterator<Item = &'static str>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).description(Some(description))
}

pub fn data_scope() -> Object {
    one_of(
        DataScope::ALL.iter().map(|s| s.as_str()),
        "Which customers the role's customer permissions reach, by the record's owner: `own` (the \
         holder's records), `team` (records owned by anyone in the holder's team), `department` (in \
         the holder's department or any below it) or `all`. A new role reaches only `own` unless told.",
    )
    .build()
}

pub fn field_rules() -> Object {
    let level = one_of(
        FieldAccess::ALL.iter().map(|l| l.as_str()),
        "`hidden` (as if the field did not exist: not shown, searched or exported), `masked`, \
         `read`, `reveal` (a sealed value may be revealed with a purpose, if the role also holds the \
         classification's reveal permission) or `write` (with `customer.write`); each level \
         includes the ones before it.",
    );
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(level))
        .description(Some(
            "Field id → level, overriding the default the role's permissions give for the field's \
             classification. An unknown field or level is refused (422 naming `field_rules`).",
        ))
        .build()
}

pub fn grantee_kind() -> Object {
    one_of(
        GranteeKind::ALL.iter().map(|k| k.as_str()),
        "Who the rule is for: holders of a `role`, members of a `department` (and of every \
         department below it), members of a `team`, or one `user`.",
    )
    .build()
}

pub fn share_access() -> Object {
    one_of(ShareAccess::ALL.iter().map(|a| a.as_str()), "`read`, or `write` (which includes read).").build()
}

pub fn org_default() -> Object {
    one_of(
        OrgDefault::ALL.iter().map(|d| d.as_str()),
        "What everyone with `customer.read` may do with every customer whatever their scope: \
         `private` (only what scopes, sharing rules and shares allow), `read_only` (everyone reads \
         every record; writing still follows scopes) or `read_write`.",
    )
    .build()
}

pub fn permission() -> Object {
    one_of(Permission::ALL.iter().map(|p| p.as_str()), "A permission name.").build()
}

pub fn network_subject() -> Object {
    one_of(
        NetworkSubject::ALL.iter().map(|s| s.as_str()),
        "What the address ranges restrict: a `role` (it applies only to requests from its ranges), \
         a `user` or a `token` (refused outside their ranges).",
    )
    .build()
}
