//! `tutela access sign-in-policy`: every role's sign-in policy; with `--role`, sets that
//! role's (second factor, session length, idle limit, re-authentication window) as the local
//! operator. Audited as `access.sign_in_policy.set`.

use anyhow::anyhow;
use clap::Args;
use tutela_core::CoreError;
use tutela_core::identity::{RoleSignInPolicy, RoleSignInPolicyView};
use uuid::Uuid;

use super::operator;
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(Args)]
pub struct SignInPolicyArgs {
    /// Name or id of the role whose policy to set; without it, lists every role's.
    #[arg(long)]
    role: Option<String>,
    /// `any` second factor, or `passkey`.
    #[arg(long, default_value = "any", requires = "role")]
    factor: String,
    /// Sessions holding the role end this many hours after sign-in (1 to 24).
    #[arg(long, requires = "role")]
    session_hours: Option<u32>,
    /// Sessions holding the role end after this many minutes unused (5 to 480).
    #[arg(long, requires = "role")]
    idle_minutes: Option<u32>,
    /// Reveals and exports need a sign-in or re-authentication at most this many minutes old
    /// (1 to 1440).
    #[arg(long, requires = "role")]
    reauth_minutes: Option<u32>,
}

pub async fn run(config: Config, args: SignInPolicyArgs, json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let result = async {
        if let Some(role) = &args.role {
            let roles = tutela.roles(&operator()).await?;
            let id = role.parse::<Uuid>().ok();
            let role = roles
                .iter()
                .find(|r| Some(r.id) == id || r.name == role.trim())
                .ok_or_else(|| anyhow!("--role: no role {role:?}"))?;
            let policy = RoleSignInPolicy {
                factor: args.factor.parse().map_err(|e: CoreError| flag_error(e))?,
                session_hours: args.session_hours,
                idle_minutes: args.idle_minutes,
                reauth_minutes: args.reauth_minutes,
            };
            tutela.set_sign_in_policy(&operator(), role.id, policy).await.map_err(flag_error)?;
        }
        Ok::<_, anyhow::Error>(tutela.sign_in_policies(&operator()).await?)
    }
    .await;
    tutela.close().await;
    let policies = result?;
    if json {
        println!("{}", serde_json::to_string(&policies)?);
    } else {
        for p in &policies {
            println!("{}", line(p));
        }
    }
    Ok(Outcome::Ok)
}

/// A refused value, named by the flag that carried it (`session_hours` → `--session-hours`).
fn flag_error(e: CoreError) -> anyhow::Error {
    match e {
        CoreError::Invalid { field, message } => anyhow!("--{}: {message}", field.replace('_', "-")),
        other => anyhow!(other),
    }
}

fn line(v: &RoleSignInPolicyView) -> String {
    let or_default = |n: Option<u32>, unit: &str| n.map_or_else(|| "default".to_owned(), |n| format!("{n} {unit}"));
    format!(
        "{}: factor {}, session {}, idle {}, re-authenticate {}",
        v.role,
        v.policy.factor,
        or_default(v.policy.session_hours, "h"),
        or_default(v.policy.idle_minutes, "min"),
        v.policy.reauth_minutes.map_or_else(|| "never asked".to_owned(), |n| format!("every {n} min")),
    )
}
