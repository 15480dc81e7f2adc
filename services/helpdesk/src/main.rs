#[tokio::main]
async fn main() -> std::process::ExitCode {
    shared::server::main(helpdesk::app()).await
}
