//! Both migration trees of every service move in lockstep: the same versions, in the same
//! order, each with an up and a down script.

use std::collections::BTreeSet;
use std::path::Path;

fn versions(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut v = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(entry.path().join("up.sql").is_file(), "{} has no up.sql", entry.path().display());
            assert!(entry.path().join("down.sql").is_file(), "{} has no down.sql", entry.path().display());
            v.insert(name);
        }
    }
    Ok(v)
}

#[test]
fn sqlite_and_postgres_migrations_are_in_lockstep() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for service in ["sales", "invoicing", "projects", "helpdesk"] {
        let pg = versions(&root.join(service).join("postgres"))?;
        let sqlite = versions(&root.join(service).join("sqlite"))?;
        assert!(!pg.is_empty(), "{service} has no migrations");
        assert_eq!(pg, sqlite, "{service}: the two trees differ");
    }
    Ok(())
}
