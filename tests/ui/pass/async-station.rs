use choochoo::{Ctx, Runner, Store, station, workflow};

/// Waits a moment, as a call to a server would, and answers with the context still at hand.
#[station(timeout = "10s")]
async fn fetch(ctx: &Ctx, url: &String) -> Result<String, std::io::Error> {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ctx.log(format!("fetched {url}"));
    Ok(format!("body of {url}"))
}

workflow! {
    fn page(url: String) -> String {
        fetch(url)
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let run = Runner::new(&store).run(page("http://example.com".to_owned())).unwrap();
    assert_eq!(run.output(), "body of http://example.com");
}
