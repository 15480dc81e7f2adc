//! `stack`: all four services in one process, SQLite files under `--data-dir` unless
//! `<SERVICE>_DATABASE_URL` says otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::config::{CORS_VAR, CorsOrigins, Service};

/// Where the SQLite files and the secret go unless `--data-dir` says otherwise.
const DEFAULT_DATA_DIR: &str = "data";

#[derive(Parser)]
#[command(name = "stack", about = "Runs the sales, invoicing, projects and helpdesk services in one process")]
struct Cli {
    /// Folder of the SQLite files (one per service) and of the secret `auth-secret`.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
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

/// Where the stack's authentication came from, for the start log.
#[derive(Debug, PartialEq)]
enum AuthSource {
    /// `AUTH_SECRET` from the environment.
    EnvSecret,
    /// `AUTH_PUBLIC_KEY` (and no secret): tokens come from an identity provider.
    PublicKey,
    /// `<data-dir>/auth-secret`, made by this start.
    Made(PathBuf),
    /// `<data-dir>/auth-secret`, made by an earlier start.
    Read(PathBuf),
}

/// The authentication of the stack: `AUTH_SECRET` / `AUTH_PUBLIC_KEY` from the environment, or
/// else a secret of its own under the data directory (made on first start).
fn auth(data_dir: &std::path::Path) -> Result<(shared::auth::AuthConfig, AuthSource), String> {
    let from_env = shared::config::auth_from_vars(&|k: &str| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map_err(|e| e.to_string())?;
    match from_env {
        Some(a) => {
            let source = if a.secret.is_some() { AuthSource::EnvSecret } else { AuthSource::PublicKey };
            Ok((a, source))
        }
        None => {
            let path = data_dir.join(stack::SECRET_FILE);
            let existed = path.exists();
            let secret = stack::local_secret(data_dir)?;
            let source = if existed { AuthSource::Read(path) } else { AuthSource::Made(path) };
            Ok((shared::auth::AuthConfig { secret: Some(secret), public_key_pem: None, service_token: None }, source))
        }
    }
}

/// The data directory as a shell word (quoted when it holds anything but plain path characters).
fn shell_word(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c));
    if plain { text.into_owned() } else { format!("'{}'", text.replace('\'', "'\\''")) }
}

/// The command that mints an admin token for this stack: `--data-dir` only when not the default.
fn token_command(data_dir: &std::path::Path) -> String {
    let dir = if data_dir == std::path::Path::new(DEFAULT_DATA_DIR) {
        String::new()
    } else {
        format!("--data-dir {} ", shell_word(data_dir))
    };
    format!("stack {dir}token --role admin --sub me --ttl 1d")
}

/// The lines `stack` logs once all four listen: where they are, where the docs are, where the
/// secret came from and how to get a token.
fn start_lines(urls: &[(Service, String)], data_dir: &std::path::Path, source: &AuthSource) -> Vec<String> {
    let listen: Vec<String> = urls.iter().map(|(s, url)| format!("{s} {url}")).collect();
    let docs = urls.iter().find(|(s, _)| *s == Service::Sales).map_or("http://127.0.0.1:8081", |(_, u)| u.as_str());
    let mut lines = vec![format!("ready: {}", listen.join(", ")), format!("docs: {docs}/docs/ (all four documents)")];
    let token = token_command(data_dir);
    match source {
        AuthSource::Made(path) => {
            lines.push(format!("secret: made now in {} (keep it: tokens signed with it stay valid)", path.display()));
            lines.push(format!("token: {token}"));
        }
        AuthSource::Read(path) => {
            lines.push(format!("secret: read from {}", path.display()));
            lines.push(format!("token: {token}"));
        }
        AuthSource::EnvSecret => {
            lines.push("secret: AUTH_SECRET from the environment".to_owned());
            lines.push(format!("token: {token} (with the same AUTH_SECRET set)"));
        }
        AuthSource::PublicKey => {
            lines.push("secret: none; tokens are checked with AUTH_PUBLIC_KEY".to_owned());
            lines.push(
                "token: from the identity provider that holds the private key (stack token cannot mint them)"
                    .to_owned(),
            );
        }
    }
    lines
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
        .0
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
    let (auth, auth_source) = match auth(&cli.data_dir) {
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
            let urls: Vec<(Service, String)> = Service::ALL.iter().map(|s| (*s, stack.url(*s).to_owned())).collect();
            for line in start_lines(&urls, &cli.data_dir, &auth_source) {
                tracing::info!("{line}");
            }
            shared::server::shutdown_signal().await;
            tracing::info!("stopping: draining requests");
            stack.stop().await;
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stack: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> Vec<(Service, String)> {
        Service::ALL.iter().map(|s| (*s, format!("http://127.0.0.1:{}", s.default_port()))).collect()
    }

    #[test]
    fn the_start_log_says_where_everything_is() {
        let made = AuthSource::Made(PathBuf::from("data/auth-secret"));
        assert_eq!(
            start_lines(&urls(), std::path::Path::new("data"), &made),
            [
                "ready: sales http://127.0.0.1:8081, invoicing http://127.0.0.1:8082, projects http://127.0.0.1:8083, \
                 helpdesk http://127.0.0.1:8084",
                "docs: http://127.0.0.1:8081/docs/ (all four documents)",
                "secret: made now in data/auth-secret (keep it: tokens signed with it stay valid)",
                "token: stack token --role admin --sub me --ttl 1d",
            ]
        );
        let read = AuthSource::Read(PathBuf::from("/tmp/x/auth-secret"));
        let lines = start_lines(&urls(), std::path::Path::new("/tmp/x"), &read);
        assert_eq!(lines[2], "secret: read from /tmp/x/auth-secret");
        assert_eq!(lines[3], "token: stack --data-dir /tmp/x token --role admin --sub me --ttl 1d");
    }

    #[test]
    fn the_token_command_quotes_odd_folders() {
        assert_eq!(
            token_command(std::path::Path::new("my data")),
            "stack --data-dir 'my data' token --role admin --sub me --ttl 1d"
        );
        assert_eq!(
            token_command(std::path::Path::new("it's")),
            "stack --data-dir 'it'\\''s' token --role admin --sub me --ttl 1d"
        );
    }

    #[test]
    fn the_printed_token_command_parses() -> Result<(), clap::Error> {
        let command = token_command(std::path::Path::new("/tmp/x"));
        let cli = Cli::try_parse_from(command.split_whitespace())?;
        assert_eq!(cli.data_dir, PathBuf::from("/tmp/x"));
        assert!(matches!(cli.command, Some(Command::Token { ref role, ref sub, ref ttl, customer: None })
            if role == "admin" && sub == "me" && ttl == "1d"));
        Ok(())
    }
}
