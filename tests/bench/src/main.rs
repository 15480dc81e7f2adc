//! `bench`: starts a fresh system (the four release binaries as four processes, fresh
//! databases), seeds it through the API and measures the time-logging path: ticket time at
//! several concurrencies, propagation to the sale line, confirm → task, growth of the ledger,
//! the HTTP and storage floors of the machine, and each service's peak memory. Text on stdout,
//! JSON with `--json FILE`. See BENCHMARKS.md.
//!
//! Build the services first: `cargo build --release --bins` (or `./scripts/bench.sh`, which
//! does both).

mod api;
mod floor;
mod load;
mod system;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use api::{Api, decimal, hundredths, text};
use load::{Latencies, Run, round3};
use system::{Backend, Databases, System};

pub type R<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Ticket,
    Propagation,
    Growth,
    Health,
    Storage,
}

#[derive(Parser, Debug)]
#[command(name = "bench", about = "Benchmark of the time-logging path on a fresh system of four processes")]
struct Cli {
    /// Storage backend; PostgreSQL is taken from BENCH_DATABASE_URL
    /// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable: the server is on
    /// this machine, and TLS over loopback only costs CPU), where fresh databases are created
    /// and dropped.
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: BackendArg,
    /// Small counts and short phases: a smoke run of about a minute.
    #[arg(long)]
    quick: bool,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Seconds per load phase (default 6, quick 2).
    #[arg(long)]
    seconds: Option<u64>,
    /// Most requests per load phase.
    #[arg(long, default_value_t = 60_000)]
    max_requests: u64,
    /// Sale lines (one customer, order and ticket each) to spread over (default 100, quick 10).
    #[arg(long)]
    lines: Option<usize>,
    /// Timesheets logged on one line for the growth figure (default 100000, quick 3000).
    #[arg(long)]
    growth: Option<u64>,
    /// Propagation samples (default 300, quick 50).
    #[arg(long)]
    propagation: Option<usize>,
    /// Client concurrencies.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Only these phases (comma-separated); default all.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Phase>,
    /// Where the service binaries are (default: the folder of this binary).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Most seconds for the bulk of the growth phase (the figure then says how many were logged).
    #[arg(long, default_value_t = 240)]
    growth_seconds: u64,
    /// Seconds to wait after start, before seeding (to attach a profiler to the printed pids).
    #[arg(long, default_value_t = 0)]
    pause: u64,
    /// Copies of each service behind a local nginx (PostgreSQL only; nginx from Debian's
    /// `nginx-light`). 1: one process each, no proxy.
    #[arg(long, default_value_t = 1)]
    replicas: usize,
}

struct Settings {
    seconds: Duration,
    max_requests: u64,
    lines: usize,
    growth: u64,
    propagation: usize,
    concurrency: Vec<usize>,
    only: Vec<Phase>,
    pause: u64,
    growth_seconds: u64,
    replicas: usize,
}

impl Settings {
    fn wants(&self, p: Phase) -> bool {
        self.only.is_empty() || self.only.contains(&p)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> R {
    let settings = Settings {
        seconds: Duration::from_secs(cli.seconds.unwrap_or(if cli.quick { 2 } else { 6 })),
        max_requests: cli.max_requests,
        lines: cli.lines.unwrap_or(if cli.quick { 10 } else { 100 }).max(1),
        growth: cli.growth.unwrap_or(if cli.quick { 3_000 } else { 100_000 }),
        propagation: cli.propagation.unwrap_or(if cli.quick { 50 } else { 300 }),
        concurrency: cli.concurrency.clone(),
        only: cli.only.clone(),
        pause: cli.pause,
        growth_seconds: cli.growth_seconds,
        replicas: cli.replicas.max(1),
    };
    let bin_dir = match cli.bin_dir.clone() {
        Some(d) => d,
        None => std::env::current_exe()?.parent().map(PathBuf::from).ok_or("no folder for the bench binary")?,
    };
    let backends = match cli.backend {
        BackendArg::Sqlite => vec![Backend::Sqlite],
        BackendArg::Postgres => vec![Backend::Postgres],
        BackendArg::Both => vec![Backend::Sqlite, Backend::Postgres],
    };
    let pg_url = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    let machine = machine();
    println!("machine: {}", machine);
    let mut reports = vec![];
    for backend in backends {
        println!("\n=== backend: {} ===", backend.name());
        let report = bench_backend(backend, &pg_url, &bin_dir, &settings).await?;
        reports.push(report);
    }
    let out = json!({"machine": machine, "quick": cli.quick, "runs": reports});
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
        println!("\nJSON written to {}", path.display());
    }
    Ok(())
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    json!({"cpus": cpus, "memory_mib": mem_kib / 1024, "cpu_model": model})
}

/// What the seed made: per line, its id, task and ticket.
struct Seeded {
    lines: Vec<String>,
    tasks: Vec<String>,
    tickets: Vec<String>,
    confirm: Latencies,
}

struct Urls {
    sales: String,
    projects: String,
    helpdesk: String,
}

async fn bench_backend(backend: Backend, pg_url: &str, bin_dir: &std::path::Path, s: &Settings) -> R<Value> {
    let secret = system::fresh_secret()?;
    let token = system::token(bin_dir, &secret);
    println!("authentication: {}", if token.is_some() { "bearer token (admin)" } else { "none" });
    let api = Api::new(64, token)?;
    let mut dbs = Databases::new(backend, pg_url)?;
    let started = Instant::now();
    let system = if s.replicas > 1 {
        println!("{} copies of each service behind nginx", s.replicas);
        System::start_replicated(bin_dir, &mut dbs, &api, &secret, s.replicas).await?
    } else {
        System::start(bin_dir, &mut dbs, &api, &secret).await?
    };
    println!(
        "started in {:.2} s: {:?} (logs in {})",
        started.elapsed().as_secs_f64(),
        system.pids(),
        dbs.dir.path().display()
    );
    if s.pause > 0 {
        println!("pausing {} s", s.pause);
        tokio::time::sleep(Duration::from_secs(s.pause)).await;
    }
    let urls = Urls {
        sales: format!("{}/api/v1", system.url("sales")),
        projects: format!("{}/api/v1", system.url("projects")),
        helpdesk: format!("{}/api/v1", system.url("helpdesk")),
    };
    let mut report = serde_json::Map::new();
    report.insert("backend".into(), json!(backend.name()));

    // Seed: one customer, confirmed order and ticket per line, plus one line for growth.
    let t = Instant::now();
    let seeded = seed(&api, &urls, s.lines + 1).await?;
    println!(
        "seeded {} lines in {:.2} s; confirm → task readable: p50 {:.2} ms, p99 {:.2} ms",
        seeded.lines.len(),
        t.elapsed().as_secs_f64(),
        seeded.confirm.ms(0.5),
        seeded.confirm.ms(0.99)
    );
    report.insert("confirm_to_task".into(), seeded.confirm.json());
    let expected: Arc<Vec<AtomicI64>> = Arc::new((0..seeded.lines.len()).map(|_| AtomicI64::new(0)).collect());
    let n = s.lines;

    // 1. Ticket time.
    let mut ticket_runs = vec![];
    let mut one_line_8 = None;
    if s.wants(Phase::Ticket) {
        println!("\n1. ticket time (POST /tickets/{{id}}/timesheets on helpdesk)");
        for spread in [false, true] {
            for &c in &s.concurrency {
                let run = ticket_time(&api, &urls, &seeded, &expected, c, spread, n, s).await;
                let (exact, settle, mismatches) = settle(&api, &urls, &seeded, &expected).await;
                println!(
                    "  {:<6} {}  | totals {} (settled {:.0} ms after the last request)",
                    if spread { "spread" } else { "one" },
                    run.line(),
                    if exact { "exact".to_owned() } else { format!("WRONG: {}", mismatches.join("; ")) },
                    settle.as_secs_f64() * 1000.0
                );
                for e in &run.first_errors {
                    println!("         error: {e}");
                }
                let mut j = run.json();
                if let Value::Object(m) = &mut j {
                    m.insert("lines".into(), json!(if spread { "spread" } else { "one" }));
                    m.insert("totals_exact".into(), json!(exact));
                    m.insert("totals_settled_ms".into(), json!(round3(settle.as_secs_f64() * 1000.0)));
                    m.insert("mismatches".into(), json!(mismatches));
                }
                if !spread && c == 8 {
                    one_line_8 = Some((run.clone(), exact));
                }
                ticket_runs.push((spread, run, j));
            }
        }
    }
    report.insert("ticket_time".into(), json!(ticket_runs.iter().map(|(_, _, j)| j.clone()).collect::<Vec<_>>()));

    // 2. Propagation.
    let mut propagation = None;
    if s.wants(Phase::Propagation) {
        let p = propagation_phase(&api, &urls, &seeded, &expected, n, s.propagation).await?;
        println!(
            "\n2. propagation (timesheet answered → order line shows it), {} samples: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            p.len(),
            p.ms(0.5),
            p.ms(0.95),
            p.ms(0.99),
            p.ms(1.0)
        );
        report.insert("propagation".into(), p.json());
        propagation = Some(p);
    }
    println!(
        "\n3. confirm → task readable, {} samples: p50 {:.2} ms, p99 {:.2} ms",
        seeded.confirm.len(),
        seeded.confirm.ms(0.5),
        seeded.confirm.ms(0.99)
    );

    // 4. Growth.
    let mut growth = None;
    if s.wants(Phase::Growth) && s.growth >= 20 {
        let g = growth_phase(&api, &urls, &seeded, &expected, s).await?;
        report.insert("growth".into(), g.clone());
        growth = Some(g);
    }

    // 5. Floors.
    let mut health_runs = vec![];
    if s.wants(Phase::Health) {
        println!("\n5a. HTTP floor: GET /health on helpdesk");
        for &c in &s.concurrency {
            let url = format!("{}/health", system.url("helpdesk"));
            let a = api.clone();
            let url = Arc::new(url);
            let run = load::run(c, s.max_requests, s.seconds, move |_| {
                let (a, url) = (a.clone(), url.clone());
                async move {
                    let res = a.request(Method::GET, &url).send().await.map_err(|e| e.to_string())?;
                    let status = res.status().as_u16();
                    res.bytes().await.map_err(|e| e.to_string())?;
                    if status == 200 { Ok(()) } else { Err(format!("status {status}")) }
                }
            })
            .await;
            println!("  {}", run.line());
            health_runs.push(run);
        }
    }
    report.insert("http_floor".into(), json!(health_runs.iter().map(Run::json).collect::<Vec<_>>()));
    let mut storage_runs = vec![];
    if s.wants(Phase::Storage) {
        println!("\n5b. storage floor: bare one-row insert, one transaction per row, same backend");
        let url = dbs.create("scratch")?;
        floor::prepare(&url)?;
        for &c in &s.concurrency {
            let (url, seconds, max) = (url.clone(), s.seconds, s.max_requests);
            let tag = format!("c{c}");
            let run = tokio::task::spawn_blocking(move || floor::run(&url, c, max, seconds, &tag)).await??;
            println!("  {}", run.line());
            storage_runs.push(run);
        }
    }
    report.insert("storage_floor".into(), json!(storage_runs.iter().map(Run::json).collect::<Vec<_>>()));

    // Fractions of the floors, per concurrency, for ticket time on one line and spread.
    let mut fractions = vec![];
    if !ticket_runs.is_empty() {
        println!("\n   ticket time as a fraction of the floors (req/s ÷ floor req/s)");
    }
    for (spread, run, _) in &ticket_runs {
        let http = health_runs.iter().find(|h| h.concurrency == run.concurrency).map(|h| run.rps() / h.rps());
        let store = storage_runs.iter().find(|h| h.concurrency == run.concurrency).map(|h| run.rps() / h.rps());
        let fmt = |f: Option<f64>| f.map(|f| format!("{:.1} %", f * 100.0)).unwrap_or_else(|| "-".into());
        println!(
            "  {:<6} c={:<3} of HTTP floor {:>8}   of storage floor {:>8}",
            if *spread { "spread" } else { "one" },
            run.concurrency,
            fmt(http),
            fmt(store)
        );
        fractions.push(json!({
            "lines": if *spread { "spread" } else { "one" },
            "concurrency": run.concurrency,
            "of_http_floor": http.map(round3),
            "of_storage_floor": store.map(round3),
        }));
    }
    report.insert("fractions_of_floors".into(), json!(fractions));

    // 6. Peak memory, then stop.
    let rss = system.peak_rss_kib();
    println!("\n6. peak resident memory (VmHWM)");
    let mut rss_json = serde_json::Map::new();
    for (name, kib) in &rss {
        match kib {
            Some(k) => println!("  {name:<10} {:.1} MiB", *k as f64 / 1024.0),
            None => println!("  {name:<10} unknown"),
        }
        rss_json.insert((*name).into(), json!(kib.map(|k| round3(k as f64 / 1024.0))));
    }
    report.insert("peak_rss_mib".into(), Value::Object(rss_json));
    let stopped = system.stop();
    for (name, outcome) in &stopped {
        if !outcome.starts_with("exited: exit status: 0") {
            println!("  {name}: {outcome}");
        }
    }

    // Targets.
    let mut targets = vec![];
    println!("\ntargets ({}):", backend.name());
    if let Some((run, exact)) = &one_line_8 {
        let ok = run.rps() >= 1000.0 && run.errors == 0 && *exact && run.latencies.ms(0.99) <= 50.0;
        targets.push(target(
            "ticket time, 8 clients, one line: >= 1000 req/s, 0 errors, exact totals, p99 <= 50 ms",
            ok,
            format!(
                "{:.0} req/s, {} errors, totals {}, p99 {:.2} ms",
                run.rps(),
                run.errors,
                if *exact { "exact" } else { "WRONG" },
                run.latencies.ms(0.99)
            ),
        ));
    }
    if let Some(p) = &propagation {
        targets.push(target("propagation p99 <= 100 ms", p.ms(0.99) <= 100.0, format!("p99 {:.2} ms", p.ms(0.99))));
    }
    if let Some(g) = &growth {
        let ratio = g.get("ratio_mean").and_then(Value::as_f64).unwrap_or(f64::MAX);
        let logged = g.get("timesheets_on_line").and_then(Value::as_u64).unwrap_or(0);
        targets.push(target(
            "the 100,000th timesheet within 1.2x the 1st (mean of a window)",
            ratio <= 1.2 && logged >= s.growth,
            format!("{ratio:.3}x after {logged} timesheets"),
        ));
    }
    if !rss.is_empty() {
        let max = rss.iter().filter_map(|(_, k)| *k).max().unwrap_or(0);
        targets.push(target(
            "every service under 64 MiB resident",
            max < 64 * 1024 && rss.iter().all(|(_, k)| k.is_some()),
            format!("largest {:.1} MiB", max as f64 / 1024.0),
        ));
    }
    report.insert("targets".into(), json!(targets));
    drop(dbs);
    Ok(Value::Object(report))
}

fn target(name: &str, met: bool, got: String) -> Value {
    println!("  [{}] {name}: {got}", if met { "met" } else { "MISSED" });
    json!({"target": name, "met": met, "measured": got})
}

async fn seed(api: &Api, u: &Urls, lines: usize) -> R<Seeded> {
    let project = api.post(&format!("{}/projects", u.projects), &json!({"name": "Helpdesk Services"})).await?;
    let project_id = text(&project, "id")?;
    let team = api
        .post(
            &format!("{}/teams", u.helpdesk),
            &json!({"name": "Support", "use_timesheets": true, "use_time_reinvoicing": true, "project_id": project_id}),
        )
        .await?;
    let team_id = text(&team, "id")?;
    let product = api
        .post(
            &format!("{}/products", u.sales),
            &json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
                    "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": project_id}),
        )
        .await?;
    let product_id = text(&product, "id")?;
    let mut seeded = Seeded { lines: vec![], tasks: vec![], tickets: vec![], confirm: Latencies::default() };
    let mut confirm = vec![];
    for i in 0..lines {
        let customer = api.post(&format!("{}/customers", u.sales), &json!({"name": format!("Customer {i}")})).await?;
        let customer_id = text(&customer, "id")?;
        let order = api
            .post(
                &format!("{}/orders", u.sales),
                &json!({"customer_id": customer_id, "lines": [{"product_id": product_id, "quantity": "10000"}]}),
            )
            .await?;
        let order_id = text(&order, "id")?;
        let confirmed =
            api.expect(Method::POST, &format!("{}/orders/{order_id}/confirm", u.sales), Some(&json!({})), 200).await?;
        let returned = Instant::now();
        let first_line = |o: &Value| o.get("lines").and_then(|l| l.get(0)).cloned().unwrap_or(Value::Null);
        let line_id = text(&first_line(&confirmed), "id")?;
        let deadline = returned + Duration::from_secs(30);
        let mut task_id = first_line(&confirmed).get("task_id").and_then(Value::as_str).map(str::to_owned);
        while task_id.is_none() {
            if Instant::now() > deadline {
                return Err(format!("order {order_id}: no task 30 s after confirm").into());
            }
            let o = api.get(&format!("{}/orders/{order_id}", u.sales)).await?;
            task_id = first_line(&o).get("task_id").and_then(Value::as_str).map(str::to_owned);
        }
        let task_id = task_id.unwrap_or_default();
        loop {
            let (status, _) = api.call(Method::GET, &format!("{}/tasks/{task_id}", u.projects), None).await?;
            if status == 200 {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("task {task_id} not readable 30 s after confirm").into());
            }
        }
        confirm.push(returned.elapsed().as_micros() as u64);
        let ticket = api
            .post(
                &format!("{}/tickets", u.helpdesk),
                &json!({"team_id": team_id, "customer_id": customer_id, "title": format!("Ticket {i}"), "task_id": task_id}),
            )
            .await?;
        if ticket.get("sale_line_id").and_then(Value::as_str) != Some(line_id.as_str()) {
            return Err(format!("ticket of line {line_id} did not take the line: {ticket}").into());
        }
        seeded.lines.push(line_id);
        seeded.tasks.push(task_id);
        seeded.tickets.push(text(&ticket, "id")?);
    }
    seeded.confirm = Latencies::new(confirm);
    Ok(seeded)
}

/// Hours of the `seq`th entry, in hundredths: 0.25 to 2.00.
fn hours(seq: u64) -> i64 {
    (seq % 8 + 1) as i64 * 25
}

#[allow(clippy::too_many_arguments)]
async fn ticket_time(
    api: &Api,
    u: &Urls,
    seeded: &Seeded,
    expected: &Arc<Vec<AtomicI64>>,
    concurrency: usize,
    spread: bool,
    n: usize,
    s: &Settings,
) -> Run {
    let urls: Arc<Vec<String>> =
        Arc::new(seeded.tickets[..n].iter().map(|t| format!("{}/tickets/{t}/timesheets", u.helpdesk)).collect());
    let (api, expected) = (api.clone(), expected.clone());
    load::run(concurrency, s.max_requests, s.seconds, move |seq| {
        let (api, urls, expected) = (api.clone(), urls.clone(), expected.clone());
        async move {
            let idx = if spread { (seq as usize) % urls.len() } else { 0 };
            let h = hours(seq);
            let res = api
                .request(Method::POST, &urls[idx])
                .json(&json!({"employee": "Bench Agent", "hours": decimal(h)}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = res.status().as_u16();
            let body = res.bytes().await.map_err(|e| e.to_string())?;
            if status == 201 {
                expected[idx].fetch_add(h, Ordering::Relaxed);
                Ok(())
            } else {
                Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])))
            }
        }
    })
    .await
}

/// Waits until every line's `qty_delivered` equals the hours logged on it (up to 60 s); answers
/// whether it did, how long it took, and what still differed.
async fn settle(api: &Api, u: &Urls, seeded: &Seeded, expected: &[AtomicI64]) -> (bool, Duration, Vec<String>) {
    let started = Instant::now();
    loop {
        let mut wrong = vec![];
        for (i, line) in seeded.lines.iter().enumerate() {
            let want = expected[i].load(Ordering::Relaxed);
            let got = match api.get(&format!("{}/order-lines/{line}", u.sales)).await {
                Ok(v) => v.get("qty_delivered").and_then(Value::as_str).and_then(hundredths),
                Err(_) => None,
            };
            if got != Some(want) {
                wrong.push(format!(
                    "line {i}: qty_delivered {} != logged {}",
                    got.map(decimal).unwrap_or_else(|| "?".into()),
                    decimal(want)
                ));
            }
        }
        if wrong.is_empty() {
            return (true, started.elapsed(), wrong);
        }
        if started.elapsed() > Duration::from_secs(60) {
            wrong.truncate(5);
            return (false, started.elapsed(), wrong);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn propagation_phase(
    api: &Api,
    u: &Urls,
    seeded: &Seeded,
    expected: &[AtomicI64],
    n: usize,
    samples: usize,
) -> R<Latencies> {
    let mut lat = vec![];
    for k in 0..samples {
        let idx = k % n;
        let h = hours(k as u64);
        api.post(
            &format!("{}/tickets/{}/timesheets", u.helpdesk, seeded.tickets[idx]),
            &json!({"employee": "Bench Agent", "hours": decimal(h)}),
        )
        .await?;
        let returned = Instant::now();
        let want = expected[idx].fetch_add(h, Ordering::Relaxed) + h;
        let url = format!("{}/order-lines/{}", u.sales, seeded.lines[idx]);
        loop {
            let v = api.get(&url).await?;
            if v.get("qty_delivered").and_then(Value::as_str).and_then(hundredths) == Some(want) {
                break;
            }
            if returned.elapsed() > Duration::from_secs(10) {
                return Err(format!("line {idx}: not {} 10 s after the timesheet", decimal(want)).into());
            }
        }
        lat.push(returned.elapsed().as_micros() as u64);
    }
    Ok(Latencies::new(lat))
}

/// Logs `s.growth` timesheets on one line (the extra seeded line), straight to projects: a
/// sequential window at the start, the bulk from 8 clients, a sequential window at the end.
async fn growth_phase(api: &Api, u: &Urls, seeded: &Seeded, expected: &Arc<Vec<AtomicI64>>, s: &Settings) -> R<Value> {
    let g = seeded.lines.len() - 1;
    let window = (s.growth / 20).clamp(10, 1000);
    let body = Arc::new((seeded.tasks[g].clone(), seeded.tickets[g].clone()));
    let url = Arc::new(format!("{}/timesheets", u.projects));
    let make = |api: Api, expected: Arc<Vec<AtomicI64>>| {
        let (body, url) = (body.clone(), url.clone());
        move |seq: u64| {
            let (api, body, url, expected) = (api.clone(), body.clone(), url.clone(), expected.clone());
            async move {
                let h = hours(seq);
                let res = api
                    .request(Method::POST, &url)
                    .json(&json!({"employee": "Bench Agent", "hours": decimal(h), "task_id": body.0, "ticket_id": body.1}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = res.status().as_u16();
                let text = res.bytes().await.map_err(|e| e.to_string())?;
                if status == 201 {
                    expected[g].fetch_add(h, Ordering::Relaxed);
                    Ok(())
                } else {
                    Err(format!("{status}: {}", String::from_utf8_lossy(&text[..text.len().min(300)])))
                }
            }
        }
    };
    println!(
        "\n4. growth: {} timesheets on one line, straight to projects (POST /timesheets): {window} one at a time, \
         the bulk from 8 clients, {window} one at a time",
        s.growth
    );
    let long = Duration::from_secs(900);
    let first = load::run(1, window, long, make(api.clone(), expected.clone())).await;
    println!("  first {window}:  {}", first.line());
    let bulk_n = s.growth.saturating_sub(2 * window);
    let bulk = load::run(8, bulk_n, Duration::from_secs(s.growth_seconds), make(api.clone(), expected.clone())).await;
    println!("  bulk:        {}", bulk.line());
    let last = load::run(1, window, long, make(api.clone(), expected.clone())).await;
    println!("  last {window}:   {}", last.line());
    let logged = first.requests + bulk.requests + last.requests - first.errors - bulk.errors - last.errors;
    let ratio_mean = last.latencies.mean_ms() / first.latencies.mean_ms().max(1e-9);
    let ratio_p50 = last.latencies.ms(0.5) / first.latencies.ms(0.5).max(1e-9);
    let (exact, settle_t, mismatches) = settle_one(api, u, seeded, expected, g).await;
    println!(
        "  the last window costs {ratio_mean:.3}x the first (mean; p50 {ratio_p50:.3}x); line total {} (settled {:.0} ms)",
        if exact { "exact".to_owned() } else { format!("WRONG: {}", mismatches.join("; ")) },
        settle_t.as_secs_f64() * 1000.0
    );
    Ok(json!({
        "timesheets_on_line": logged,
        "window": window,
        "first_window": first.json(),
        "bulk": bulk.json(),
        "last_window": last.json(),
        "ratio_mean": round3(ratio_mean),
        "ratio_p50": round3(ratio_p50),
        "total_exact": exact,
        "settled_ms": round3(settle_t.as_secs_f64() * 1000.0),
    }))
}

async fn settle_one(
    api: &Api,
    u: &Urls,
    seeded: &Seeded,
    expected: &[AtomicI64],
    i: usize,
) -> (bool, Duration, Vec<String>) {
    let started = Instant::now();
    let want = expected[i].load(Ordering::Relaxed);
    loop {
        let got = match api.get(&format!("{}/order-lines/{}", u.sales, seeded.lines[i])).await {
            Ok(v) => v.get("qty_delivered").and_then(Value::as_str).and_then(hundredths),
            Err(_) => None,
        };
        if got == Some(want) {
            return (true, started.elapsed(), vec![]);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let got = got.map(decimal).unwrap_or_else(|| "?".into());
            return (false, started.elapsed(), vec![format!("qty_delivered {got} != logged {}", decimal(want))]);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
