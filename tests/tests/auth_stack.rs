//! The real `stack` binary, tried as a new user would: it makes its secret (readable by its
//! owner only) on first start, answers 401 without a token, and `stack token` mints tokens that
//! work. Run with `RUST_LOG=debug` and sent good and bad tokens, neither its log nor any answer
//! holds a token or the secret.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{R, free_port};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::config::Service;

/// The `stack` binary next to this test, built when it is missing.
fn stack_binary() -> R<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(|d| d.parent()).ok_or("no target directory")?;
    let path = dir.join(format!("stack{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo).args(["build", "-p", "stack", "--bin", "stack"]).status()?;
        if !status.success() || !path.exists() {
            return Err(format!("could not build {}", path.display()).into());
        }
    }
    Ok(path)
}

struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mint(bin: &std::path::Path, data: &std::path::Path, args: &[&str]) -> R<std::process::Output> {
    Ok(Command::new(bin).arg("--data-dir").arg(data).arg("token").args(args).env_remove("AUTH_SECRET").output()?)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stack_binary_keeps_tokens_and_its_secret_out_of_answers_and_logs() -> R {
    let bin = stack_binary()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let log_path = dir.path().join("stack.log");
    let mut urls = vec![];
    let mut cmd = Command::new(&bin);
    cmd.arg("--data-dir").arg(&data);
    for s in Service::ALL {
        let port = free_port()?;
        cmd.env(format!("{}_BIND", s.name().to_uppercase()), format!("127.0.0.1:{port}"));
        urls.push((s, format!("http://127.0.0.1:{port}")));
    }
    let log = std::fs::File::create(&log_path)?;
    cmd.env("RUST_LOG", "debug")
        .env_remove("AUTH_SECRET")
        .env_remove("AUTH_PUBLIC_KEY")
        .env_remove("CORS_ALLOWED_ORIGINS")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let _stack = Running(cmd.spawn()?);
    let http = reqwest::Client::new();
    let url = |s: Service| urls.iter().find(|(x, _)| *x == s).map(|(_, u)| u.clone()).unwrap_or_default();
    let end = Instant::now() + Duration::from_secs(60);
    for s in Service::ALL {
        while !http.get(format!("{}/health", url(s))).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            if Instant::now() > end {
                return Err(format!("{s} never came up:\n{}", std::fs::read_to_string(&log_path)?).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Its own secret, made on first start, readable by its owner only.
    let secret_file = data.join("auth-secret");
    let mode = std::fs::metadata(&secret_file)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the secret file is {mode:o}");
    let secret = std::fs::read_to_string(&secret_file)?.trim().to_owned();
    assert!(secret.len() >= 32);

    // `stack token` mints tokens that work; a customer token needs its customer.
    let out = mint(&bin, &data, &["--role", "admin", "--sub", "alice", "--ttl", "1h"])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let admin = String::from_utf8(out.stdout)?.trim().to_owned();
    let refused = mint(&bin, &data, &["--role", "customer", "--sub", "c"])?;
    assert!(!refused.status.success(), "a customer token without --customer");
    assert!(!mint(&bin, &data, &["--role", "root", "--sub", "x"])?.status.success(), "an unknown role");

    let mut bodies = vec![];
    let anonymous =
        http.post(format!("{}/api/v1/customers", url(Service::Sales))).json(&json!({"name": "A"})).send().await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    bodies.push(anonymous.text().await?);
    let created = http
        .post(format!("{}/api/v1/customers", url(Service::Sales)))
        .bearer_auth(&admin)
        .json(&json!({"name": "Azure Interior"}))
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let customer: Value = serde_json::from_str(&{
        let t = created.text().await?;
        bodies.push(t.clone());
        t
    })?;
    let customer = customer["id"].as_str().ok_or("no id")?.to_owned();
    let out = mint(&bin, &data, &["--role", "customer", "--sub", "azure", "--customer", &customer])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let customer_token = String::from_utf8(out.stdout)?.trim().to_owned();
    let mine = http
        .get(format!("{}/api/v1/customers/{customer}", url(Service::Sales)))
        .bearer_auth(&customer_token)
        .send()
        .await?;
    assert_eq!(mine.status(), StatusCode::OK);
    bodies.push(mine.text().await?);
    let forbidden = http
        .post(format!("{}/api/v1/customers", url(Service::Sales)))
        .bearer_auth(&customer_token)
        .json(&json!({"name": "B"}))
        .send()
        .await?;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    bodies.push(forbidden.text().await?);

    // Bad tokens, in every service: tampered, wrongly signed, malformed.
    let mut tokens = vec![admin.clone(), customer_token.clone()];
    let tampered = {
        let mut p: Vec<&str> = admin.split('.').collect();
        let sig = p[2].chars().rev().collect::<String>();
        p[2] = &sig;
        p.join(".")
    };
    let foreign = shared::auth::mint(
        b"a-secret-of-another-system-0123456789",
        &shared::auth::claims("mallory", shared::auth::Role::Admin, None, 600),
    )?;
    tokens.extend([tampered, foreign, "not.a.token".to_owned()]);
    for s in Service::ALL {
        for t in &tokens {
            for path in ["/api/v1/nothing-here", "/api/v1/openapi.json"] {
                let res = http.get(format!("{}{path}", url(s))).bearer_auth(t).send().await?;
                bodies.push(res.text().await?);
            }
        }
        let list =
            ["customers", "invoices", "projects", "tickets"][Service::ALL.iter().position(|x| *x == s).unwrap_or(0)];
        for t in &tokens[2..] {
            let res = http.get(format!("{}/api/v1/{list}", url(s))).bearer_auth(t).send().await?;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{s}");
            bodies.push(res.text().await?);
        }
        let res = http.get(format!("{}/api/v1/{list}", url(s))).bearer_auth(&admin).send().await?;
        assert_eq!(res.status(), StatusCode::OK, "{s}");
        bodies.push(res.text().await?);
    }

    // Let the log catch up, then look for every token (and its signature alone) and the secret.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = std::fs::read_to_string(&log_path)?;
    assert!(log.lines().count() > 20, "RUST_LOG=debug logged too little to prove anything:\n{log}");
    let mut secrets: Vec<String> = vec![secret.clone()];
    for t in &tokens {
        secrets.push(t.clone());
        if let Some(sig) = t.rsplit('.').next().filter(|s| s.len() > 16) {
            secrets.push(sig.to_owned());
        }
    }
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "the log holds a token or the secret ({}…)", &s[..8.min(s.len())]);
        for b in &bodies {
            assert!(!b.contains(s.as_str()), "an answer holds a token or the secret: {b}");
        }
    }
    Ok(())
}
