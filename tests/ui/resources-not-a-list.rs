use choochoo::station;

#[station(resources = "db")]
fn migrate(schema: &u64) -> u64 {
    *schema
}

fn main() {}
