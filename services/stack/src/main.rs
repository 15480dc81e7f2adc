//! `stack`: all four services in one process, SQLite files under `--data-dir` unless
//! `<SERVICE>_DATABASE_URL` says otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::config::{CORS_VAR, CorsOrigins, Service};

#[derive(Parser)]
#[command(name = "stack", about = "Runs the sales, invoicing, projects and helpdesk services in one process")]
struct Cli {
    /// Folder of the SQLite files (one per service).
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Applies pending migrations to the four databases, then exits.
    Migrate,
    /// Writes the four OpenAPI documents (`<service>.json`) into a folder, then exits.
    Openapi {
        #[arg(long, default_value = "openapi")]
        out: PathBuf,
    },
    /// Prints a bearer token signed with the stack's secret (`AUTH_SECRET`, or the one under
    /// the data directory), e.g. `stack token --role agent --sub alice --ttl 30d`.
    Token {
        /// admin, sales, accounting, agent, customer or service.
        #[arg(long)]
        role: String,
        /// Who the token is for.
        #[arg(long)]
        sub: String,
        /// How long it is valid: seconds, or a number followed by s, m, h or d.
        #[arg(long, default_value = "1d")]
        ttl: String,
        /// The customer id, for a customer token (required then, refused otherwise).
        #[arg(long)]
        customer: Option<uuid::Uuid>,
    },
}

/// Parses `30d`, `12h`, `15m`, `90s` or `3600` into seconds.
fn ttl_seconds(ttl: &str) -> Result<i64, String> {
    let ttl = ttl.trim();
    let (number, unit) = match ttl.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&ttl[..i], c),
        _ => (ttl, 's'),
    };
    let n: i64 = number.parse().map_err(|_| format!("--ttl {ttl:?}: give seconds or a number with s, m, h or d"))?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("--ttl {ttl:?}: the unit must be s, m, h or d")),
    };
    if n <= 0 {
        return Err("--ttl must be positive".into());
    }
    n.checked_mul(scale).ok_or_else(|| "--ttl is too long".into())
}

/// The authentication of the stack: `AUTH_SECRET` / `AUTH_PUBLIC_KEY` from the environment, or
/// else a secret of its own under the data directory (made on first start).
fn auth(data_dir: &std::path::Path) -> Result<shared::auth::AuthConfig, String> {
    let from_env = shared::config::auth_from_vars(&|k: &str| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map_err(|e| e.to_string())?;
    match from_env {
        Some(a) => Ok(a),
        None => Ok(shared::auth::AuthConfig {
            secret: Some(stack::local_secret(data_dir)?),
            public_key_pem: None,
            service_token: None,
        }),
    }
}

fn mint(
    data_dir: &std::path::Path,
    role: &str,
    sub: &str,
    ttl: &str,
    customer: Option<uuid::Uuid>,
) -> Result<String, String> {
    use shared::auth::Role;
    let role = Role::parse(role).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        format!("--role {role:?}: one of {}", names.join(", "))
    })?;
    match (role, customer) {
        (Role::Customer, None) => return Err("a customer token needs --customer <customer id>".into()),
        (r, Some(_)) if r != Role::Customer => return Err("--customer goes with --role customer only".into()),
        _ => {}
    }
    if sub.trim().is_empty() {
        return Err("--sub must not be empty".into());
    }
    let secret = auth(data_dir)?
        .secret
        .ok_or("tokens can only be minted with AUTH_SECRET (HS256); this stack uses a public key")?;
    shared::auth::mint(&secret, &shared::auth::claims(sub, role, customer, ttl_seconds(ttl)?))
}

fn database(data_dir: &std::path::Path, s: Service) -> String {
    std::env::var(format!("{}_DATABASE_URL", s.name().to_uppercase()))
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| data_dir.join(format!("{}.db", s.name())).to_string_lossy().into_owned())
}

fn bind(s: Service) -> String {
    std::env::var(format!("{}_BIND", s.name().to_uppercase()))
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("127.0.0.1:{}", s.default_port()))
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init();
    let cli = Cli::parse();
    if let Some(Command::Openapi { out }) = &cli.command {
        return match stack::write_openapi(out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("stack: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Token { role, sub, ttl, customer }) = &cli.command {
        return match mint(&cli.data_dir, role, sub, ttl, *customer) {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("stack: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(Command::Migrate) = cli.command {
        for s in Service::ALL {
            let url = database(&cli.data_dir, s);
            if let Err(e) = shared::server::open_db(&url, stack::app(s).migrations).await {
                eprintln!("stack: {s}: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("stack: {s}: migrations applied to {}", shared::server::redact(&url));
        }
        return ExitCode::SUCCESS;
    }
    let cors = match CorsOrigins::parse(&std::env::var(CORS_VAR).unwrap_or_default()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stack: {e}");
            return ExitCode::from(2);
        }
    };
    let auth = match auth(&cli.data_dir) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stack: authentication: {e}");
            return ExitCode::from(2);
        }
    };
    let plan = match stack::plan(bind, |s| database(&cli.data_dir, s)) {
        Ok(p) => stack::Plan { cors, auth: Some(auth), ..p },
        Err(e) => {
            eprintln!("stack: {e}");
            return ExitCode::FAILURE;
        }
    };
    match stack::start_all(plan).await {
        Ok(stack) => {
            for s in Service::ALL {
                eprintln!("stack: {s} on {}", stack.url(s));
            }
            shared::server::shutdown_signal().await;
            stack.stop().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stack: {e}");
            ExitCode::FAILURE
        }
    }
}
