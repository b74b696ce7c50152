use time::OffsetDateTime;
use uuid::Uuid;

use super::ReviewChange;
use super::SsoIdentityRow;
use super::{
    ApiTokenRow, BlindEntry, BreakGlassRow, CustomerRow, DepartmentRow, ErasureRecord, ExportRequestRow, FieldDef,
    KeyRewrap, MembershipRow, NetworkRuleRow, PasskeyRow, RecordShareRow, RoleRow, SessionRow, SharingRuleRow,
    StoredKey, TeamRow, UserRow,
};
use super::{KnownDeviceRow, NoticeRows};

/// Every change the domain can make, applied inside a [`crate::WriteTx`] together with the
/// audit records that describe it. One enum keeps the set of writes visible in one place.
#[derive(Debug, Clone)]
pub enum Mutation {
    PutMeta {
        key: String,
        value: Vec<u8>,
    },
    InsertKey(StoredKey),

    PutField(FieldDef),
    DeleteField {
        id: String,
    },

    InsertCustomer {
        row: CustomerRow,
        blind: Vec<BlindEntry>,
    },
    /// Fails with `Conflict` unless the stored version is `row.version - 1`.
    UpdateCustomer {
        row: CustomerRow,
        blind: Vec<BlindEntry>,
    },
    /// Removes the record with its data key and blind index; appends the erasure to the ledger.
    EraseCustomer(ErasureRecord),
    /// Skipped (not an error) for a record changed or erased since the rewrap was computed.
    RewrapCustomerKey(KeyRewrap),

    InsertUser(UserRow),
    UpdateUser(UserRow),
    RewrapUserKey(KeyRewrap),
    /// Records an accepted TOTP time step; fails with `Conflict` unless the stored step is
    /// older, so that two requests racing with one code cannot both succeed.
    AdvanceTotpStep {
        user_id: Uuid,
        step: i64,
    },
    SetUserRoles {
        user_id: Uuid,
        role_ids: Vec<Uuid>,
    },
    InsertRecoveryCodes {
        user_id: Uuid,
        hashes: Vec<[u8; 32]>,
    },
    /// Fails with `NotFound` unless an unused code with this hash exists for the user.
    UseRecoveryCode {
        user_id: Uuid,
        hash: [u8; 32],
        at: OffsetDateTime,
    },

    PutRole(RoleRow),
    DeleteRole {
        id: Uuid,
    },

    InsertSession(SessionRow),
    /// Marks the second factor as done and replaces the token (a new session id after
    /// each privilege change defeats session fixation).
    PromoteSession {
        old_hash: [u8; 32],
        new: SessionRow,
    },
    DeleteSession {
        token_hash: [u8; 32],
    },
    /// Records a fresh proof of identity in a signed-in session. Fails with `NotFound`
    /// unless the session exists.
    ReauthenticateSession {
        token_hash: [u8; 32],
        at: OffsetDateTime,
        factor: String,
    },
    /// Ends every session of the user but the one named by `keep` ("end all my others").
    DeleteUserSessions {
        user_id: Uuid,
        keep: Option<Uuid>,
    },

    InsertApiToken(ApiTokenRow),
    RevokeApiToken {
        id: Uuid,
        at: OffsetDateTime,
    },
    /// Revokes every token of the user not yet revoked (none is no error).
    RevokeUserApiTokens {
        user_id: Uuid,
        at: OffsetDateTime,
    },

    /// Fails with `Conflict` if the credential id is registered already (to anyone).
    InsertPasskey(PasskeyRow),
    /// Records an accepted assertion: the updated credential, its counter and the time.
    /// Fails with `Conflict` unless the passkey is not suspended and its stored counter is
    /// still `expected_sign_count`, so that two assertions checked against one stored state
    /// cannot both be accepted.
    UsePasskey {
        id: Uuid,
        expected_sign_count: u32,
        sign_count: u32,
        passkey: String,
        at: OffsetDateTime,
    },
    /// Refuses the passkey from now on (its counter went backwards). Fails with `NotFound`
    /// unless it exists and is not suspended yet.
    SuspendPasskey {
        id: Uuid,
        at: OffsetDateTime,
    },
    /// Fails with `NotFound` unless the passkey exists and belongs to `user_id`.
    DeletePasskey {
        id: Uuid,
        user_id: Uuid,
    },

    /// A change to the organisation or to who may see which records beyond their roles.
    Org(OrgChange),

    /// Links a user to an identity provider's account. Fails with `Conflict` if the
    /// (issuer, subject) pair is linked already (to anyone).
    InsertSsoIdentity(SsoIdentityRow),
    /// Records a sign-in through the linked account. Fails with `NotFound` unless it exists.
    TouchSsoIdentity {
        issuer: String,
        subject: String,
        at: OffsetDateTime,
    },

    /// Inserts or replaces an export request (its decision and cancellation change the row).
    PutExportRequest(ExportRequestRow),

    /// Enqueues a notice: its inbox entry and its deliveries (see `tutela_core::notify`).
    Notify(NoticeRows),
    /// Records a sign-in from a device. When the user had no such device yet it is added and
    /// the notices are enqueued; a known one only has its `last_seen_at` moved and the
    /// notices are dropped. Decided inside the write, so that two sign-ins racing from one
    /// new device send one notice.
    SeenDevice {
        device: KnownDeviceRow,
        notices: Vec<NoticeRows>,
    },

    /// Access-review campaigns, decisions and reminders.
    Review(ReviewChange),
}

/// Changes to departments, teams, memberships, sharing rules and record shares.
#[derive(Debug, Clone)]
pub enum OrgChange {
    PutDepartment(DepartmentRow),
    /// Names the department's manager (`None`: nobody). Fails with `NotFound` for an unknown id.
    SetDepartmentManager {
        id: Uuid,
        manager_id: Option<Uuid>,
    },
    /// Fails with `NotFound` for an unknown id. Sub-departments, teams and members must have
    /// been moved first (the domain checks); memberships naming it are cleared.
    DeleteDepartment {
        id: Uuid,
    },
    PutTeam(TeamRow),
    /// Fails with `NotFound` for an unknown id; memberships naming it are cleared.
    DeleteTeam {
        id: Uuid,
    },
    /// Replaces the user's place in the organisation.
    SetMembership(MembershipRow),
    PutSharingRule(SharingRuleRow),
    /// Fails with `NotFound` for an unknown id.
    DeleteSharingRule {
        id: Uuid,
    },
    InsertRecordShare(RecordShareRow),
    /// Fails with `NotFound` for an unknown id.
    DeleteRecordShare {
        id: Uuid,
    },
    /// Inserts or replaces a break-glass request (its decision and end change the row).
    PutBreakGlass(BreakGlassRow),
    /// Replaces the subject's address ranges; an empty list removes the restriction.
    SetNetworkRule(NetworkRuleRow),
}
