//! A build-script-like program: renders a directory of Markdown pages to HTML, one station
//! per page (mapped over the pages found at run time), plus an index. Only changed pages are
//! rendered again.
//!
//! `cargo run --release --example site` builds a small sample site in a temporary directory,
//! edits one page and builds again; `cargo run --release --example site -- DIR` builds `DIR`.

use choochoo::{Ctx, Dir, File, Runner, Status, Store, station, workflow};

/// The pages of the site: every `.md` file in the directory, by name.
#[station]
fn find_pages(dir: &Dir) -> Result<Vec<File>, std::io::Error> {
    let mut pages: Vec<File> = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(File::new)
        .collect();
    pages.sort();
    Ok(pages)
}

/// A rendered page: its title and the HTML file.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Page {
    title: String,
    html: File,
}

/// Renders one page into this item's own directory.
#[station]
fn render(ctx: &Ctx, page: &File, site_name: &str) -> Result<Page, std::io::Error> {
    let markdown = std::fs::read_to_string(page.path())?;
    let title = markdown
        .lines()
        .find_map(|line| line.strip_prefix("# "))
        .unwrap_or("Untitled")
        .to_owned();
    let name = page
        .path()
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("page");
    let html = ctx.out_dir().join(format!("{name}.html"));
    let body = markdown_to_html(&markdown);
    std::fs::write(
        &html,
        format!("<!doctype html><title>{title} · {site_name}</title>\n{body}"),
    )?;
    Ok(Page {
        title,
        html: File::new(html),
    })
}

/// The index: a link to every page, in order.
#[station]
fn index(ctx: &Ctx, pages: &[Page], site_name: &str) -> Result<File, std::io::Error> {
    let links: String = pages
        .iter()
        .map(|page| {
            format!(
                "<li><a href=\"{}\">{}</a></li>\n",
                page.html.path().display(),
                escape(&page.title)
            )
        })
        .collect();
    let path = ctx.out_dir().join("index.html");
    std::fs::write(
        &path,
        format!(
            "<!doctype html><title>{site_name}</title>\n<h1>{site_name}</h1>\n<ul>\n{links}</ul>\n"
        ),
    )?;
    Ok(File::new(path))
}

workflow! {
    /// Renders every page of `pages_dir` and an index of them.
    fn site(pages_dir: Dir, site_name: String) -> File {
        let pages = find_pages(pages_dir);
        let rendered = map(render, pages, site_name);
        index(rendered, site_name)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The store is kept outside the pages: the pages directory is an input, hashed by content.
    let sample_root = std::env::temp_dir().join(format!("choochoo-site-{}", std::process::id()));
    let (dir, store_dir, sample) = match std::env::args_os().nth(1) {
        Some(dir) => (
            std::path::PathBuf::from(dir),
            std::path::PathBuf::from(".choochoo"),
            false,
        ),
        None => (
            sample_root.join("pages"),
            sample_root.join(".choochoo"),
            true,
        ),
    };
    if sample {
        std::fs::create_dir_all(&dir)?;
        for (name, text) in SAMPLE {
            std::fs::write(dir.join(name), text)?;
        }
    }
    let store = Store::open(store_dir)?;
    let build = |what: &str| -> Result<(), choochoo::Error> {
        let run = Runner::new(&store).run(site(Dir::new(&dir), "Field notes".to_owned()))?;
        let rendered = run
            .report()
            .find("rendered")
            .next()
            .and_then(|e| e.reason().map(str::to_owned));
        println!(
            "{what}: {} ran, {} cached{}",
            run.report().count(Status::Ran),
            run.report().count(Status::Cached),
            rendered
                .map(|r| format!(" (pages: {r})"))
                .unwrap_or_default()
        );
        println!("  index: {}", run.output().path().display());
        Ok(())
    };
    build("first build")?;
    build("nothing changed")?;
    if sample {
        std::fs::write(
            dir.join("b-tracking.md"),
            "# Tracking defects\n\nEvery failure is an *observation*; recurring ones are **defects**.\n",
        )?;
        build("after editing one page")?;
        std::fs::write(dir.join("d-new.md"), "# A new page\n\nAdded later.\n")?;
        build("after adding a page")?;
        std::fs::remove_dir_all(&sample_root)?;
    }
    Ok(())
}

const SAMPLE: [(&str, &str); 3] = [
    (
        "a-resume.md",
        "# Resuming at 90 %\n\nFail, fix, run again: only the last **10 %** runs.\n\n- check\n- visit\n- check again\n",
    ),
    (
        "b-tracking.md",
        "# Tracking defects\n\nEvery failure is an observation.\n",
    ),
    (
        "c-cleaning.md",
        "# Cleaning up\n\nBefore anything is destroyed, what is about to go is written down (`evidence`).\n",
    ),
];

/// A small Markdown subset: `#` headings, paragraphs, `-` lists, `**bold**`, `*em*`, `code`.
fn markdown_to_html(markdown: &str) -> String {
    let mut html = String::new();
    let mut in_list = false;
    for block in markdown.split("\n\n") {
        for line in block.lines() {
            let line = line.trim_end();
            if let Some(item) = line.strip_prefix("- ") {
                if !in_list {
                    html.push_str("<ul>\n");
                    in_list = true;
                }
                html.push_str(&format!("<li>{}</li>\n", inline(item)));
                continue;
            }
            if in_list {
                html.push_str("</ul>\n");
                in_list = false;
            }
            let level = line.chars().take_while(|c| *c == '#').count();
            if (1..=6).contains(&level) && line[level..].starts_with(' ') {
                html.push_str(&format!(
                    "<h{level}>{}</h{level}>\n",
                    inline(line[level..].trim())
                ));
            } else if !line.is_empty() {
                html.push_str(&format!("<p>{}</p>\n", inline(line)));
            }
        }
    }
    if in_list {
        html.push_str("</ul>\n");
    }
    html
}

/// Emphasis, strong and code spans inside a line.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = escape(text);
    for (marker, open, close) in [
        ("**", "<strong>", "</strong>"),
        ("*", "<em>", "</em>"),
        ("`", "<code>", "</code>"),
    ] {
        let mut parts = rest.split(marker);
        out.clear();
        out.push_str(parts.next().unwrap_or(""));
        let mut inside = false;
        for part in parts {
            out.push_str(if inside { close } else { open });
            out.push_str(part);
            inside = !inside;
        }
        if inside {
            out.push_str(close);
        }
        rest = out.clone();
    }
    rest
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
