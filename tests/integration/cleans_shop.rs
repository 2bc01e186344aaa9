//! The program of the safe-clean tests: a small shop whose stations make things in a
//! "world" directory of the working directory, and write each visit and each clean function
//! called to logs there. In graph order: db, schema (reads db), pages (a map over three
//! pages), site (reads schema and pages), audit (reads db), report (reads site and audit).

use choochoo::{File, Graph, Node, station};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The world, relative to the site.
pub(crate) const WORLD: &str = "world";
/// The log of visits, one station or item a line.
pub(crate) const RAN: &str = "ran.log";
/// The log of clean functions called, one station or item a line.
pub(crate) const CLEANED: &str = "cleaned.log";
/// The pages the map renders, by their paths as given.
pub(crate) const PAGES: [&str; 3] = ["pages/a.md", "pages/b.md", "pages/c.md"];

fn log(world: &Path, file: &str, line: &str) -> std::io::Result<()> {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(world.join(file))?;
    // One write per line: stations run at once, and an appended write is not split.
    log.write_all(format!("{line}\n").as_bytes())
}

/// Creates the database: a file in the world.
#[station(clean = drop_db)]
fn create_db(world: &PathBuf) -> std::io::Result<PathBuf> {
    log(world, RAN, "db")?;
    let db = world.join("shop.db");
    std::fs::write(&db, "tables\n")?;
    Ok(db)
}

fn drop_db(world: &Path, db: &Path) -> std::io::Result<()> {
    log(world, CLEANED, "db")?;
    std::fs::remove_file(db)
}

/// Migrates the database to schema version 2.
#[station(clean = unmigrate)]
fn migrate(world: &PathBuf, db: &PathBuf) -> std::io::Result<u32> {
    log(world, RAN, "schema")?;
    std::fs::write(world.join("schema"), format!("{}: v2\n", db.display()))?;
    Ok(2)
}

fn unmigrate(world: &Path, _db: &Path, _version: &u32) -> std::io::Result<()> {
    log(world, CLEANED, "schema")?;
    std::fs::remove_file(world.join("schema"))
}

/// Renders one page into the world.
#[station(clean = unrender)]
fn render(page: &File, world: &PathBuf) -> std::io::Result<PathBuf> {
    log(world, RAN, &format!("pages[{}]", page.path().display()))?;
    let name = page
        .path()
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy();
    let html = world.join(format!("{name}.html"));
    std::fs::write(&html, std::fs::read(page.path())?)?;
    Ok(html)
}

fn unrender(page: &File, world: &Path, html: &Path) -> std::io::Result<()> {
    log(world, CLEANED, &format!("pages[{}]", page.path().display()))?;
    std::fs::remove_file(html)
}

/// Publishes the site: the pages on the migrated database.
#[station(clean = unpublish)]
fn publish(world: &PathBuf, schema: &u32, pages: &Vec<PathBuf>) -> std::io::Result<PathBuf> {
    log(world, RAN, "site")?;
    let site = world.join("site.txt");
    std::fs::write(
        &site,
        format!("{} pages on schema v{schema}\n", pages.len()),
    )?;
    Ok(site)
}

fn unpublish(world: &Path, _schema: &u32, _pages: &[PathBuf], site: &Path) -> std::io::Result<()> {
    log(world, CLEANED, "site")?;
    std::fs::remove_file(site)
}

/// Audits the database; reads nothing of the site.
#[station(clean = unaudit)]
fn audit(world: &PathBuf, db: &PathBuf) -> std::io::Result<String> {
    log(world, RAN, "audit")?;
    Ok(format!("{} audited", db.display()))
}

fn unaudit(world: &Path, _db: &Path, _audit: &str) -> std::io::Result<()> {
    log(world, CLEANED, "audit")
}

/// Reports on the site and the audit.
#[station(clean = unreport)]
fn report(world: &PathBuf, site: &PathBuf, audit: &String) -> std::io::Result<String> {
    log(world, RAN, "report")?;
    Ok(format!("{} and {audit}", site.display()))
}

fn unreport(world: &Path, _site: &Path, _audit: &str, _report: &str) -> std::io::Result<()> {
    log(world, CLEANED, "report")
}

/// The shop, in graph order: db, schema, pages (a map), site, audit, report.
pub(crate) fn build() -> (Graph, Node<String>) {
    let mut g = Graph::new();
    let world = g.input_named("world", PathBuf::from(WORLD));
    let db = g.add_named("db", CreateDb, (&world,));
    let schema = g.add_named("schema", Migrate, (&world, &db));
    let sources = g.input_named("sources", PAGES.map(File::new).to_vec());
    let pages = g.map_named("pages", Render, &sources, (&world,));
    let site = g.add_named("site", Publish, (&world, &schema, &pages));
    let audit = g.add_named("audit", Audit, (&world, &db));
    let report = g.add_named("report", Report, (&world, &site, &audit));
    (g, report)
}
