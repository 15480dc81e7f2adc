#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `docker-compose.yml` agrees with the binaries, though no Docker engine runs here: every
//! variable it sets is one the binaries read (`shared::config::VARS`), every port and peer URL
//! is the one DESIGN.md gives, each service has its own database, and everything has a health
//! check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_norway::Value;
use shared::config::{Service, VARS, stack_vars};

/// The ports of DESIGN.md and API.md ("sales 8081, invoicing 8082, projects 8083, helpdesk 8084").
const DESIGN_PORTS: [(&str, u16); 4] = [("sales", 8081), ("invoicing", 8082), ("projects", 8083), ("helpdesk", 8084)];

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn repo_file(name: &str) -> R<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    Ok(std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn compose() -> R<Value> {
    let mut doc: Value = serde_norway::from_str(&repo_file("docker-compose.yml")?)?;
    doc.apply_merge()?;
    Ok(doc)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A service's environment, in either compose form (a map, or a list of `K=V`).
fn environment(svc: &Value) -> R<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    match svc.get("environment") {
        None => {}
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                out.insert(text(k).ok_or("a non-string variable name")?, text(v).unwrap_or_default());
            }
        }
        Some(Value::Sequence(items)) => {
            for item in items {
                let item = text(item).ok_or("a non-string environment entry")?;
                let (k, v) = item.split_once('=').unwrap_or((&item, ""));
                out.insert(k.to_owned(), v.to_owned());
            }
        }
        Some(other) => return Err(format!("environment is neither a map nor a list: {other:?}").into()),
    }
    Ok(out)
}

/// The binary a service runs: the first word of its `command` (or the image's `stack`).
fn binary(svc: &Value) -> Option<String> {
    match svc.get("command") {
        Some(Value::Sequence(s)) => s.first().and_then(text),
        Some(Value::String(s)) => s.split_whitespace().next().map(str::to_owned),
        _ => svc.get("build").map(|_| "stack".to_owned()),
    }
}

fn services(doc: &Value) -> R<Vec<(String, Value)>> {
    let m = doc.get("services").and_then(Value::as_mapping).ok_or("no services")?;
    Ok(m.iter().filter_map(|(k, v)| Some((text(k)?, v.clone()))).collect())
}

/// The services built from our Dockerfile (PostgreSQL is an image, not ours).
fn ours(doc: &Value) -> R<Vec<(String, Value)>> {
    Ok(services(doc)?.into_iter().filter(|(_, v)| v.get("build").is_some()).collect())
}

#[test]
fn design_ports_are_the_default_ports() {
    for (name, port) in DESIGN_PORTS {
        let s = Service::ALL.into_iter().find(|s| s.name() == name).expect(name);
        assert_eq!(s.default_port(), port, "{name}");
    }
    assert_eq!(Service::ALL.len(), DESIGN_PORTS.len());
}

#[test]
fn compose_sets_only_variables_the_binaries_read() -> R {
    let doc = compose()?;
    let stack: BTreeSet<String> = stack_vars().into_iter().collect();
    for (name, svc) in ours(&doc)? {
        let bin = binary(&svc).ok_or(format!("{name}: no command"))?;
        for var in environment(&svc)?.keys() {
            let read = if bin == "stack" { stack.contains(var) } else { VARS.contains(&var.as_str()) };
            assert!(read, "compose sets {var} for {name} ({bin}), which the binary never reads; it reads {VARS:?}");
        }
    }
    Ok(())
}

#[test]
fn compose_runs_each_service_on_its_design_port_with_its_peers() -> R {
    let doc = compose()?;
    let ours = ours(&doc)?;
    for (name, port) in DESIGN_PORTS {
        let (_, svc) = ours.iter().find(|(n, _)| n == name).ok_or(format!("compose has no {name} service"))?;
        assert_eq!(binary(svc).as_deref(), Some(name), "{name} must run the `{name}` binary");
        let env = environment(svc)?;
        let bind = env.get("BIND").ok_or(format!("{name}: no BIND"))?;
        assert_eq!(bind, &format!("0.0.0.0:{port}"), "{name}: BIND");
        let ports: Vec<String> = svc
            .get("ports")
            .and_then(Value::as_sequence)
            .map(|s| s.iter().filter_map(text).collect())
            .unwrap_or_default();
        assert!(ports.contains(&format!("{port}:{port}")), "{name} publishes {ports:?}, not {port}:{port}");
        // Every peer URL points at that peer's compose service on its design port.
        for (peer, peer_port) in DESIGN_PORTS {
            let var = format!("{}_URL", peer.to_uppercase());
            let url = env.get(&var).ok_or(format!("{name}: no {var}"))?;
            assert_eq!(url, &format!("http://{peer}:{peer_port}"), "{name}: {var}");
            assert!(ours.iter().any(|(n, _)| n == peer), "{name}: {var} names no compose service");
        }
    }
    Ok(())
}

#[test]
fn compose_gives_each_service_its_own_database() -> R {
    let doc = compose()?;
    let init = repo_file("deploy/postgres-init.sql")?;
    let mut seen = BTreeSet::new();
    for (name, svc) in ours(&doc)? {
        let url = environment(&svc)?.get("DATABASE_URL").cloned().ok_or(format!("{name}: no DATABASE_URL"))?;
        assert!(url.starts_with("postgres://"), "{name}: {url}");
        let database = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_owned();
        assert_eq!(database, name, "{name} must use its own database, not {database}");
        assert!(seen.insert(database.clone()), "{database} is shared");
        assert!(
            init.contains(&format!("CREATE DATABASE {database};")),
            "deploy/postgres-init.sql does not create {database}"
        );
        let host = url.split('@').nth(1).and_then(|h| h.split([':', '/']).next()).unwrap_or_default();
        assert!(services(&doc)?.iter().any(|(n, _)| n == host), "{name}: database host {host} is no compose service");
        let depends = svc.get("depends_on").ok_or(format!("{name}: no depends_on"))?;
        assert!(depends.get(host).is_some(), "{name} does not wait for {host}");
    }
    assert_eq!(seen.len(), DESIGN_PORTS.len());
    Ok(())
}

#[test]
fn compose_has_health_checks_on_the_services_own_ports() -> R {
    let doc = compose()?;
    for (name, svc) in services(&doc)? {
        let test = svc.get("healthcheck").and_then(|h| h.get("test")).ok_or(format!("{name}: no health check"))?;
        let words: Vec<String> = match test {
            Value::Sequence(s) => s.iter().filter_map(text).collect(),
            other => vec![text(other).unwrap_or_default()],
        };
        assert!(!words.is_empty(), "{name}: empty health check");
        if let Some((_, port)) = DESIGN_PORTS.iter().find(|(n, _)| *n == name) {
            let probe = words.join(" ");
            assert!(
                probe.contains(&format!("127.0.0.1:{port}/ready"))
                    || probe.contains(&format!("127.0.0.1:{port}/health")),
                "{name}: the health check does not probe its own /ready or /health: {probe}"
            );
        }
    }
    Ok(())
}

#[test]
fn the_dockerfile_builds_every_binary_compose_runs() -> R {
    let doc = compose()?;
    let dockerfile = repo_file("Dockerfile")?;
    for (name, svc) in ours(&doc)? {
        let bin = binary(&svc).ok_or(format!("{name}: no command"))?;
        assert!(dockerfile.contains(&format!("target/release/{bin} ")), "the Dockerfile does not ship `{bin}`");
    }
    // The health checks use curl in the runtime image.
    assert!(dockerfile.contains("curl"), "the runtime image lacks curl for the health checks");
    Ok(())
}

#[test]
fn readme_ports_agree_with_the_design() -> R {
    let readme = repo_file("README.md")?;
    for (name, port) in DESIGN_PORTS {
        assert!(readme.contains(&format!("| `{name}` | {port} |")), "README's table lacks {name} on {port}");
    }
    Ok(())
}
