// embed_migrations! sees the migration files it embeds, not a folder added next to them.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/projects");
}
