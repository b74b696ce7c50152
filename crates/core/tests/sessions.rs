//! Sessions and tokens ended by their owner, by an administrator, and by disabling the user —
//! audited, refused for anyone else, and holding on a second node at once — on both stores.

use secrecy::{ExposeSecret, SecretString};
use tutela_core::CoreError;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Permission, Principal};
use tutela_core::testing::{Backend, Harness, SignInAs, principal};
use tutela_store::{AuditFilter, AuditRecord, UserStatus};
use uuid::Uuid;

const PASSWORD: &str = "violet harbour nine lanterns";

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage])
}

/// Creates a user with the sales role, ready to sign in.
async fn user(h: &Harness, email: &str) -> (Uuid, SignInAs) {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: SecretString::from(PASSWORD.to_owned()),
        roles: vec!["sales".into()],
    };
    let id = h.tutela.create_user(&admin(), new).await.unwrap().id;
    (id, SignInAs::new(email, PASSWORD))
}

/// The principal of a signed-in session and the session's public id.
async fn as_session(h: &Harness, token: &str) -> (Principal, Option<Uuid>) {
    let (p, id) = h.tutela.signed_in_session(token, Some("192.0.2.1".into())).await.unwrap();
    (p, Some(id))
}

async fn events(h: &Harness, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 50, ..AuditFilter::default() };
    h.tutela.store().audit_search(&filter).await.unwrap()
}

fn detail(r: &AuditRecord) -> serde_json::Value {
    serde_json::from_str(r.detail.as_deref().unwrap_or("null")).unwrap()
}

fn is_unauthenticated<T>(r: &Result<T, CoreError>) -> bool {
    matches!(r, Err(CoreError::Unauthenticated(_)))
}

async fn a_user_ends_their_own_sessions_only(backend: Backend) {
    let h = Harness::new(backend).await;
    let b = h.second_node().await;
    let (ann_id, mut ann) = user(&h, "ann@example.com").await;
    let (_, mut bob) = user(&h, "bob@example.com").await;
    let laptop = ann.sign_in(&h, Some("192.0.2.10"), Some("Firefox")).await;
    let phone = ann.sign_in(&h, Some("198.51.100.7"), Some("Safari 手机")).await;
    let bobs = bob.sign_in(&h, None, None).await;
    let (on_laptop, laptop_id) = as_session(&h, &laptop).await;

    let mine = h.tutela.my_sessions(&on_laptop, laptop_id).await.unwrap();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(mine.iter().all(|s| s.user_id == ann_id && s.signed_in));
    let current: Vec<_> = mine.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1, "exactly one is this session");
    assert_eq!(current[0].user_agent.as_deref(), Some("Firefox"));
    let phone_id = mine.iter().find(|s| !s.current).unwrap().id;
    assert_eq!(mine.iter().find(|s| !s.current).unwrap().source.as_deref(), Some("198.51.100.7"));
    for s in &mine {
        let shown = serde_json::to_string(s).unwrap();
        for token in [&laptop, &phone] {
            let hash = tutela_crypto::token::hash_token(token);
            assert!(!shown.contains(token.as_str()), "no token in {shown}");
            assert!(!shown.contains(&data_encoding::HEXLOWER.encode(&hash)), "no token hash in {shown}");
        }
    }

    // Bob may neither see nor end Ann's session: to him it does not exist. The refusal is
    // audited and changes nothing.
    let (as_bob, bob_session) = as_session(&h, &bobs).await;
    assert!(h.tutela.my_sessions(&as_bob, bob_session).await.unwrap().iter().all(|s| s.id != phone_id));
    let refused = h.tutela.end_session(&as_bob, phone_id).await.unwrap_err();
    assert!(matches!(refused, CoreError::NotFound("session")), "{refused:?}");
    assert!(events(&h, "session.end").await.iter().any(|e| e.outcome == "denied" && e.actor == "bob@example.com"));
    assert!(h.tutela.session(&phone).await.is_ok(), "Ann's session survives Bob's attempt");
    assert!(matches!(h.tutela.user_sessions(&as_bob, ann_id).await, Err(CoreError::Forbidden(_))));

    // An unknown id is not found, and nothing ends.
    let unknown = h.tutela.end_session(&on_laptop, Uuid::new_v4()).await.unwrap_err();
    assert!(matches!(unknown, CoreError::NotFound("session")), "{unknown:?}");
    assert_eq!(h.tutela.my_sessions(&on_laptop, laptop_id).await.unwrap().len(), 2);

    // Node B has seen the phone's session; ended on A, it is refused on B at once.
    assert!(b.session_principal(&phone, None).await.is_ok());
    h.tutela.end_session(&on_laptop, phone_id).await.unwrap();
    assert!(is_unauthenticated(&b.session_principal(&phone, None).await), "ended on A, refused on B");
    assert!(is_unauthenticated(&h.tutela.session(&phone).await));
    assert!(h.tutela.session(&laptop).await.is_ok(), "the other session goes on");
    let ended = events(&h, "session.end").await;
    let ended = ended.iter().find(|e| e.outcome == "ok").expect("session.end audited");
    assert_eq!(ended.actor, "ann@example.com");
    assert_eq!(detail(ended), serde_json::json!({ "session": phone_id, "user": ann_id }));
    // Ending it again: not found.
    assert!(matches!(h.tutela.end_session(&on_laptop, phone_id).await, Err(CoreError::NotFound(_))));
    b.close().await;
    h.close().await;
}

async fn end_all_my_other_sessions(backend: Backend) {
    let h = Harness::new(backend).await;
    let (ann_id, mut ann) = user(&h, "ann@example.com").await;
    let (_, mut bob) = user(&h, "bob@example.com").await;
    let here = ann.sign_in(&h, None, None).await;
    let others = [ann.sign_in(&h, None, None).await, ann.sign_in(&h, None, None).await];
    // A password-only session counts too: someone else may be halfway in.
    let halfway = h.tutela.login("ann@example.com", SecretString::from(PASSWORD.to_owned()), None, None).await.unwrap();
    let bobs = bob.sign_in(&h, None, None).await;
    let (p, here_id) = as_session(&h, &here).await;
    let listed = h.tutela.my_sessions(&p, here_id).await.unwrap();
    assert_eq!(listed.iter().filter(|s| !s.signed_in).count(), 1, "the pending one is listed: {listed:?}");

    assert_eq!(h.tutela.end_my_other_sessions(&p, here_id).await.unwrap(), 3);
    assert!(h.tutela.session(&here).await.is_ok(), "this session is kept");
    for token in others.iter().map(String::as_str).chain([halfway.pending_token.expose_secret()]) {
        assert!(is_unauthenticated(&h.tutela.session(token).await), "every other session ended");
    }
    assert!(h.tutela.session(&bobs).await.is_ok(), "other users untouched");
    let kept = h.tutela.my_sessions(&p, here_id).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(Some(kept[0].id), here_id);
    let audited = events(&h, "session.end_all").await;
    assert_eq!(audited.len(), 1);
    let d = detail(&audited[0]);
    assert_eq!((d["user"].clone(), d["kept"].clone()), (serde_json::json!(ann_id), serde_json::json!(kept[0].id)));
    assert_eq!(d["sessions"].as_array().unwrap().len(), 3);
    h.close().await;
}

async fn an_administrator_ends_anyones_sessions_and_tokens(backend: Backend) {
    let h = Harness::new(backend).await;
    let (bob_id, mut bob) = user(&h, "bob@example.com").await;
    let first = bob.sign_in(&h, Some("203.0.113.5"), None).await;
    let second = bob.sign_in(&h, None, None).await;
    let (as_bob, _) = as_session(&h, &first).await;
    let token = h.tutela.create_api_token(&as_bob, "report", &["customer.read".into()], None).await.unwrap();

    let admin = admin();
    let theirs = h.tutela.user_sessions(&admin, bob_id).await.unwrap();
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|s| !s.current), "none of them is the administrator's");
    let first_id = theirs.iter().find(|s| s.source.as_deref() == Some("203.0.113.5")).unwrap().id;
    h.tutela.end_session(&admin, first_id).await.unwrap();
    assert!(is_unauthenticated(&h.tutela.session(&first).await));
    let ended = events(&h, "session.end").await;
    assert_eq!(
        (ended[0].actor.as_str(), detail(&ended[0])["user"].clone()),
        ("admin@example.com", serde_json::json!(bob_id))
    );

    assert_eq!(h.tutela.end_user_sessions(&admin, bob_id).await.unwrap(), 1);
    assert!(is_unauthenticated(&h.tutela.session(&second).await));
    assert!(h.tutela.user_sessions(&admin, bob_id).await.unwrap().is_empty());
    assert_eq!(detail(&events(&h, "session.end_all").await[0])["user"], serde_json::json!(bob_id));

    // Tokens: listed and revoked by the administrator, the owner named in the audit log.
    let tokens = h.tutela.user_api_tokens(&admin, bob_id).await.unwrap();
    assert_eq!(tokens.iter().map(|t| t.id).collect::<Vec<_>>(), vec![token.id]);
    h.tutela.revoke_api_token(&admin, token.id).await.unwrap();
    assert!(is_unauthenticated(&h.tutela.token_principal(token.token.expose_secret(), None).await));
    let revoked = events(&h, "token.revoke").await;
    assert_eq!(detail(&revoked[0]), serde_json::json!({ "token": token.id, "user": bob_id }));
    assert!(matches!(h.tutela.revoke_api_token(&admin, token.id).await, Err(CoreError::NotFound("token"))));

    // Unknown users and ids: not found, and nothing written.
    let before = h.tutela.store().audit_head().await.unwrap();
    let nobody = Uuid::new_v4();
    assert!(matches!(h.tutela.user_sessions(&admin, nobody).await, Err(CoreError::NotFound("user"))));
    assert!(matches!(h.tutela.end_user_sessions(&admin, nobody).await, Err(CoreError::NotFound("user"))));
    assert!(matches!(h.tutela.user_api_tokens(&admin, nobody).await, Err(CoreError::NotFound("user"))));
    assert!(matches!(h.tutela.end_session(&admin, nobody).await, Err(CoreError::NotFound("session"))));
    assert_eq!(h.tutela.store().audit_head().await.unwrap(), before, "nothing audited or changed");
    h.close().await;
}

async fn disabling_ends_sessions_and_tokens_on_every_node(backend: Backend) {
    let h = Harness::new(backend).await;
    let b = h.second_node().await;
    let (bob_id, mut bob) = user(&h, "bob@example.com").await;
    let sessions = [bob.sign_in(&h, None, None).await, bob.sign_in(&h, None, None).await];
    let (as_bob, _) = as_session(&h, &sessions[0]).await;
    let scopes = ["customer.read".to_owned()];
    let tokens = [
        h.tutela.create_api_token(&as_bob, "one", &scopes, None).await.unwrap(),
        h.tutela.create_api_token(&as_bob, "two", &scopes, None).await.unwrap(),
    ];
    // Node B has resolved everything, so its token cache is warm.
    for t in &tokens {
        assert!(b.token_principal(t.token.expose_secret(), None).await.is_ok());
    }
    for s in &sessions {
        assert!(b.session_principal(s, None).await.is_ok());
    }

    h.tutela.set_user_status(&admin(), bob_id, UserStatus::Disabled).await.unwrap();
    for t in &tokens {
        assert!(is_unauthenticated(&b.token_principal(t.token.expose_secret(), None).await), "token refused on B");
    }
    for s in &sessions {
        assert!(is_unauthenticated(&b.session_principal(s, None).await), "session refused on B");
    }
    assert!(h.tutela.store().sessions_for_user(bob_id).await.unwrap().is_empty(), "session rows deleted");
    let rows = h.tutela.store().api_tokens_for_user(bob_id).await.unwrap();
    assert!(rows.iter().all(|t| t.revoked_at.is_some()), "token rows revoked, not just unusable");
    let d = detail(&events(&h, "user.set_status").await[0]);
    assert_eq!(d["status"], "disabled");
    assert_eq!(d["sessions_ended"].as_array().unwrap().len(), 2);
    let mut revoked: Vec<_> = d["tokens_revoked"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    revoked.sort_unstable();
    let mut expected: Vec<_> = tokens.iter().map(|t| t.id.to_string()).collect();
    expected.sort_unstable();
    assert_eq!(revoked, expected);

    // Enabled again, nothing old comes back: the user signs in anew and makes new tokens.
    h.tutela.set_user_status(&admin(), bob_id, UserStatus::Active).await.unwrap();
    for t in &tokens {
        assert!(is_unauthenticated(&b.token_principal(t.token.expose_secret(), None).await), "still revoked");
    }
    assert!(is_unauthenticated(&b.session_principal(&sessions[1], None).await), "still ended");
    let fresh = bob.sign_in(&h, None, None).await;
    assert!(b.session_principal(&fresh, None).await.is_ok());
    b.close().await;
    h.close().await;
}

tutela_core::on_both_stores! {
    a_user_ends_their_own_sessions_only_ => a_user_ends_their_own_sessions_only;
    end_all_my_other_sessions_ => end_all_my_other_sessions;
    an_administrator_ends_anyones_sessions_and_tokens_ => an_administrator_ends_anyones_sessions_and_tokens;
    disabling_ends_sessions_and_tokens_on_every_node_ => disabling_ends_sessions_and_tokens_on_every_node;
}
