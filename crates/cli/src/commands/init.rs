//! `tutela init`: the installation and its first administrator, without prompts.

use std::path::PathBuf;

use anyhow::Context as _;
use secrecy::SecretString;
use tutela_core::identity::NewUser;

use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(clap::Args)]
#[allow(clippy::struct_field_names)] // the flags are --admin-*, by design
pub struct InitArgs {
    #[arg(long)]
    admin_email: String,
    /// A file holding the administrator's password: at least `password.min_length` (12)
    /// characters, not a common or breached one (see docs/CLI.md).
    #[arg(long, value_name = "FILE")]
    admin_password_file: PathBuf,
    #[arg(long, default_value = "Administrator")]
    admin_name: String,
}

pub async fn run(config: Config, args: InitArgs, json: bool) -> anyhow::Result<Outcome> {
    let password = std::fs::read_to_string(&args.admin_password_file)
        .with_context(|| format!("--admin-password-file {}", args.admin_password_file.display()))?;
    let password = SecretString::from(password.trim_end_matches(['\n', '\r']).to_owned());
    let tutela = open_tutela(&config, true).await?;
    let result = tutela
        .init_admin(NewUser { email: args.admin_email, display_name: args.admin_name, password, roles: Vec::new() })
        .await;
    tutela.close().await;
    let admin = result?;
    if json {
        println!("{}", serde_json::json!({ "admin": admin, "data_dir": config.data_dir }));
    } else {
        println!("Initialised {} with administrator {}.", config.data_dir.display(), admin.email);
        println!("Start the server with `tutela serve`; the administrator enrols a second factor at first sign-in.");
    }
    Ok(Outcome::Ok)
}
