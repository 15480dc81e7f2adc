//! The committed `openapi/<service>.json` documents are exactly what the services serve;
//! regenerate them with `cargo run --bin stack -- openapi` when this fails.

use shared::config::Service;

#[test]
fn committed_openapi_documents_match_the_services() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    for s in Service::ALL {
        let path = dir.join(format!("{}.json", s.name()));
        let committed = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let served = stack::openapi_text(s)?;
        assert!(
            committed == served,
            "{} is out of date: run `cargo run --bin stack -- openapi` and commit the result",
            path.display()
        );
    }
    Ok(())
}
