#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `docker-compose.yml` and the `Dockerfile` agree with the binaries, though no Docker engine
//! runs here: every variable compose sets is one the binaries read (`shared::config::VARS`),
//! every port and peer URL is the one DESIGN.md gives, each service has its own database,
//! everything has a health check, the one image is built once and run by all four, and the
//! image's default command runs as a non-root user, listens on 0.0.0.0 and writes a volume.

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

/// The binary a service runs: the first word of its `command`, or else of the image's `CMD`.
fn binary(svc: &Value) -> Option<String> {
    match svc.get("command") {
        Some(Value::Sequence(s)) => s.first().and_then(text),
        Some(Value::String(s)) => s.split_whitespace().next().map(str::to_owned),
        _ => dockerfile().ok()?.default_command().ok()?.first().cloned(),
    }
}

fn services(doc: &Value) -> R<Vec<(String, Value)>> {
    let m = doc.get("services").and_then(Value::as_mapping).ok_or("no services")?;
    Ok(m.iter().filter_map(|(k, v)| Some((text(k)?, v.clone()))).collect())
}

/// The images compose builds from our Dockerfile: the `image` of each service with a `build`.
fn built_images(doc: &Value) -> R<BTreeSet<String>> {
    Ok(services(doc)?
        .iter()
        .filter(|(_, v)| v.get("build").is_some())
        .filter_map(|(_, v)| v.get("image").and_then(text))
        .collect())
}

/// The services that run our image, built here or reused (PostgreSQL is an image, not ours).
fn ours(doc: &Value) -> R<Vec<(String, Value)>> {
    let built = built_images(doc)?;
    Ok(services(doc)?
        .into_iter()
        .filter(|(_, v)| v.get("build").is_some() || v.get("image").and_then(text).is_some_and(|i| built.contains(&i)))
        .collect())
}

/// One instruction of the Dockerfile: its keyword (upper case) and the rest, continuation lines
/// joined.
struct Instruction {
    keyword: String,
    args: String,
}

struct Dockerfile(Vec<Instruction>);

fn dockerfile() -> R<Dockerfile> {
    let text = repo_file("Dockerfile")?;
    let mut out = vec![];
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, args) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
                out.push(Instruction { keyword: keyword.to_uppercase(), args: args.trim().to_owned() });
                current.clear();
            }
        }
    }
    Ok(Dockerfile(out))
}

impl Dockerfile {
    /// The instructions of the last stage (the image that runs).
    fn runtime(&self) -> &[Instruction] {
        let from = self.0.iter().rposition(|i| i.keyword == "FROM").map_or(0, |p| p + 1);
        &self.0[from..]
    }

    fn last(&self, keyword: &str) -> Option<&str> {
        self.runtime().iter().rev().find(|i| i.keyword == keyword).map(|i| i.args.as_str())
    }

    /// The words of `CMD` (exec form, a JSON array, as signals reach the binary then).
    fn default_command(&self) -> R<Vec<String>> {
        let cmd = self.last("CMD").ok_or("the image has no CMD")?;
        Ok(serde_json::from_str(cmd).map_err(|e| format!("CMD is not in exec form ({e}): {cmd}"))?)
    }

    /// The variables `ENV` sets in the runtime stage (`K=V` pairs, or the old `K V` form).
    fn env(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for i in self.runtime().iter().filter(|i| i.keyword == "ENV") {
            if i.args.contains('=') {
                for pair in i.args.split_whitespace() {
                    if let Some((k, v)) = pair.split_once('=') {
                        out.insert(k.to_owned(), v.trim_matches('"').to_owned());
                    }
                }
            } else if let Some((k, v)) = i.args.split_once(char::is_whitespace) {
                out.insert(k.to_owned(), v.trim().to_owned());
            }
        }
        out
    }

    /// The paths of the runtime stage's `VOLUME`s, and the index of the first.
    fn volumes(&self) -> (Vec<String>, Option<usize>) {
        let mut paths = vec![];
        let mut first = None;
        for (n, i) in self.runtime().iter().enumerate().filter(|(_, i)| i.keyword == "VOLUME") {
            first.get_or_insert(n);
            match serde_json::from_str::<Vec<String>>(&i.args) {
                Ok(list) => paths.extend(list),
                Err(_) => paths.extend(i.args.split_whitespace().map(str::to_owned)),
            }
        }
        (paths, first)
    }
}

/// The users the runtime stage creates (`useradd`): name and uid, if given.
fn created_users(dockerfile: &Dockerfile) -> Vec<(String, Option<String>)> {
    let mut out = vec![];
    for i in dockerfile.runtime().iter().filter(|i| i.keyword == "RUN") {
        for cmd in i.args.split("&&") {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            let Some(at) = words.iter().position(|w| *w == "useradd") else { continue };
            let words = &words[at + 1..];
            let uid = words.windows(2).find(|w| w[0] == "--uid" || w[0] == "-u").map(|w| w[1].to_owned());
            if let Some(name) = words.last() {
                out.push(((*name).to_owned(), uid));
            }
        }
    }
    out
}

/// Whether `a` and `b` (names or uids) are the same user of the Dockerfile's.
fn same_user(dockerfile: &Dockerfile, a: &str, b: &str) -> bool {
    a == b
        || created_users(dockerfile).iter().any(|(name, uid)| {
            let ids = [Some(name.as_str()), uid.as_deref()];
            ids.contains(&Some(a)) && ids.contains(&Some(b))
        })
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
fn compose_builds_the_one_image_once_and_runs_it_four_times() -> R {
    let doc = compose()?;
    let builders: Vec<(String, Value)> =
        services(&doc)?.into_iter().filter(|(_, v)| v.get("build").is_some()).collect();
    assert_eq!(
        builders.len(),
        1,
        "exactly one service builds the image, not {:?}",
        builders.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let (builder, svc) = &builders[0];
    let image =
        svc.get("image").and_then(text).ok_or(format!("{builder} builds the image without naming it (image:)"))?;
    let context = match svc.get("build") {
        Some(Value::String(c)) => c.clone(),
        Some(b) => b.get("context").and_then(text).unwrap_or_else(|| ".".into()),
        None => unreachable!(),
    };
    assert_eq!(context.trim_end_matches('/'), ".", "{builder} builds from {context}, not the Dockerfile at the root");
    let ours = ours(&doc)?;
    for (name, _) in DESIGN_PORTS {
        let (_, svc) = ours.iter().find(|(n, _)| n == name).ok_or(format!("{name} does not run the image {image}"))?;
        assert_eq!(svc.get("image").and_then(text).as_deref(), Some(image.as_str()), "{name}: image");
        // Never pulled: no registry has it, and a pull could fetch someone else's image of that name.
        let policy = svc.get("pull_policy").and_then(text).unwrap_or_default();
        assert!(policy == "never" || policy == "build", "{name}: pull_policy is {policy:?}, not never");
        if name != builder {
            // `docker compose up <name>` must bring the builder along, or the image may not exist.
            let depends = svc.get("depends_on").ok_or(format!("{name}: no depends_on"))?;
            let on_builder = match depends {
                Value::Sequence(s) => s.iter().filter_map(text).any(|d| d == *builder),
                other => other.get(builder.as_str()).is_some(),
            };
            assert!(on_builder, "{name} runs {image} without depending on {builder}, which builds it");
        }
    }
    Ok(())
}

#[test]
fn the_image_runs_as_a_non_root_user() -> R {
    let dockerfile = dockerfile()?;
    let user = dockerfile.last("USER").ok_or("the runtime stage has no USER: the image would run as root")?;
    let name = user.split(':').next().unwrap_or_default();
    assert!(!["", "root", "0"].contains(&name), "USER {user} is root");
    let created = created_users(&dockerfile).iter().any(|(n, uid)| n == name || uid.as_deref() == Some(name));
    assert!(created, "USER {user}: the runtime stage creates no such user (useradd)");
    Ok(())
}

#[test]
fn the_image_default_command_listens_on_all_interfaces() -> R {
    let dockerfile = dockerfile()?;
    let cmd = dockerfile.default_command()?;
    let bin = cmd.first().ok_or("empty CMD")?;
    let env = dockerfile.env();
    let stack: BTreeSet<String> = stack_vars().into_iter().collect();
    // What the default command would bind, as that binary reads it.
    for (name, port) in DESIGN_PORTS {
        let var = if bin == "stack" { format!("{}_BIND", name.to_uppercase()) } else { "BIND".to_owned() };
        if bin != "stack" && bin != name {
            continue;
        }
        let bind = env.get(&var).ok_or(format!("the image's default command (`{bin}`) binds 127.0.0.1: set {var}"))?;
        assert_eq!(bind, &format!("0.0.0.0:{port}"), "the image's {var}");
        assert!(
            dockerfile.runtime().iter().any(|i| i.keyword == "EXPOSE"
                && i.args.split_whitespace().any(|p| p == port.to_string() || p == format!("{port}/tcp"))),
            "the image does not EXPOSE {port}"
        );
    }
    for var in env.keys() {
        let read = if bin == "stack" { stack.contains(var) } else { VARS.contains(&var.as_str()) };
        assert!(read, "the image sets {var}, which `{bin}` never reads");
    }
    Ok(())
}

#[test]
fn the_image_default_command_writes_to_a_volume_its_user_owns() -> R {
    let dockerfile = dockerfile()?;
    let cmd = dockerfile.default_command()?;
    assert_eq!(cmd.first().map(String::as_str), Some("stack"), "the image's default command is `stack`");
    let at = cmd
        .iter()
        .position(|w| w == "--data-dir")
        .ok_or("the default command gives no --data-dir (it would write ./data)")?;
    let data = cmd.get(at + 1).ok_or("--data-dir without a folder")?.trim_end_matches('/').to_owned();
    assert!(data.starts_with('/'), "--data-dir {data} is not absolute");
    let (volumes, first_volume) = dockerfile.volumes();
    assert!(volumes.iter().any(|v| v.trim_end_matches('/') == data), "no VOLUME {data} (the image has {volumes:?})");
    // Owned by the USER before the VOLUME line: changes after it are lost, and a fresh volume
    // copies the ownership of the folder in the image.
    let user = dockerfile.last("USER").ok_or("no USER")?.split(':').next().unwrap_or_default().to_owned();
    let first_volume = first_volume.unwrap_or(usize::MAX);
    let owned = dockerfile.runtime()[..first_volume.min(dockerfile.runtime().len())]
        .iter()
        .filter(|i| i.keyword == "RUN")
        .any(|i| {
            i.args.split("&&").any(|cmd| {
                let words: Vec<&str> = cmd.split_whitespace().collect();
                let Some(at) = words.iter().position(|w| *w == "chown") else { return false };
                let args: Vec<&str> = words[at + 1..].iter().copied().filter(|w| !w.starts_with('-')).collect();
                let Some((owner, paths)) = args.split_first() else { return false };
                let owner = owner.split(':').next().unwrap_or_default();
                let recursive = words.contains(&"-R");
                same_user(&dockerfile, owner, &user)
                    && paths
                        .iter()
                        .map(|p| p.trim_end_matches('/'))
                        .any(|p| p == data || (recursive && data.starts_with(&format!("{p}/"))))
            })
        });
    assert!(owned, "{data} is not chowned to USER {user} before the VOLUME line: `stack` could not write it");
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
