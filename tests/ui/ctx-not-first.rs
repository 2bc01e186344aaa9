use choochoo::{Ctx, station};

#[station]
fn label(x: &u64, ctx: &Ctx) -> String {
    format!("{}: {x}", ctx.station_id())
}

fn main() {}
