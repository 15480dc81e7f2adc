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
    let plan = match stack::plan(bind, |s| database(&cli.data_dir, s)) {
        Ok(p) => stack::Plan { cors, ..p },
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
