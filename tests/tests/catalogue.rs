//! Each service's catalogue of refusals (`shared::refusals!` in its `domain/mod.rs`) holds
//! exactly the codes it answers: using a code that is not declared does not compile, and this
//! test fails when the catalogue declares one that no code of the service uses.

use std::path::{Path, PathBuf};

use shared::config::Service;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sources(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[test]
fn every_declared_refusal_is_used_by_its_service() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../services");
    let mut unused = vec![];
    for s in Service::ALL {
        let src = root.join(s.name()).join("src");
        let catalogue = std::fs::read_to_string(src.join("domain/mod.rs"))?;
        let block = catalogue
            .split_once("shared::refusals!")
            .map(|(_, rest)| rest.split_once("\n}\n").map_or(rest, |(b, _)| b))
            .ok_or_else(|| format!("{}: no refusals! in domain/mod.rs", s.name()))?;
        // `Variant = "code",` lines.
        let declared: Vec<(&str, &str)> = block
            .lines()
            .filter_map(|l| {
                let (variant, code) = l.trim().split_once(" = ")?;
                Some((variant, code.trim_end_matches(',').trim_matches('"')))
            })
            .collect();
        assert_eq!(
            declared.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
            stack::app(s).refusals.to_vec(),
            "{}: the catalogue read here is not the one the service reports",
            s.name()
        );
        let mut files = vec![];
        sources(&src, &mut files)?;
        let code: String = files.iter().map(std::fs::read_to_string).collect::<Result<Vec<_>, _>>()?.join("\n");
        for (variant, c) in declared {
            if !code.contains(&format!("Refusal::{variant}")) {
                unused.push(format!("{}: {variant} ({c}) is declared but never answered", s.name()));
            }
        }
    }
    assert!(unused.is_empty(), "{}", unused.join("\n"));
    Ok(())
}
