use choochoo::station;

#[station]
async fn fetch(url: &String) -> String {
    url.clone()
}

fn main() {}
