//! The notice of a sign-in from a new device or network (see [`super::device`]).

use tutela_store::{KnownDeviceRow, Mutation, UserRow};

use super::device::{browser_label, device_text};
use super::{Notice, NoticeKind};
use crate::Tutela;
use crate::clock::rfc3339;
use crate::identity::Factor;

/// The `field` under which the blind-index key derives the subkey of device hashes, apart
/// from every customer field's.
const DEVICE_KEY: &str = "notify.sign_in_device";

impl Tutela {
    /// The mutation that records the device of a completed sign-in (`factor`, the second
    /// factor it proved), to be committed with the signed-in session. A device new to the user is remembered and the user told
    /// (inbox and e-mail), unless it is the account's first: the first sign-in is the user
    /// setting the account up, and a notice of it would teach people to ignore these.
    /// Sign-ins with API tokens are not sign-ins and never come here.
    pub(crate) async fn sign_in_device(
        &self,
        user: &UserRow,
        source: Option<&str>,
        user_agent: Option<&str>,
        factor: Factor,
    ) -> crate::CoreResult<Mutation> {
        let device = i64::from(self.keys.blind_index(DEVICE_KEY, &device_text(user.id, source, user_agent)));
        let now = self.clock.now();
        let first = self.store.known_devices(user.id).await?.is_empty();
        let notices = if first {
            Vec::new()
        } else {
            let notice = Notice::new(NoticeKind::SignInNewDevice)
                .param("account", &user.email)
                .param("time", &rfc3339(now))
                .param("address", &source.unwrap_or("unknown"))
                .param("browser", &browser_label(user_agent))
                .param("method", &factor.as_str())
                .param("link", &"/account");
            vec![self.notice_rows(user, &notice)]
        };
        Ok(Mutation::SeenDevice {
            device: KnownDeviceRow { user_id: user.id, device, first_seen_at: now, last_seen_at: now },
            notices,
        })
    }
}
