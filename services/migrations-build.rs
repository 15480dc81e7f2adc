// The build script of each service: `embed_migrations!` sees the migration files it embeds,
// not a folder added next to them, so a new migration rebuilds the service from here.
fn main() {
    let service = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    println!("cargo:rerun-if-changed=../../migrations/{service}");
}
