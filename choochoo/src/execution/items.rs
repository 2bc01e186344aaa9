//! A map's items, named by what they are: by the program's function (`map_named_by`), else
//! by the path of the first file or directory in the item as given (`src/lapi.c`), else by
//! a short hash of its content. An item's node is `map[name]` and its directory
//! `work/<profile>/<map>/<name>/`, the same from run to run, so an item computed again to
//! the same bytes hands the same value downstream. The same item twice in a list is one
//! item; two items of one name (or of one directory) are an error that names both.

use crate::error::chain;
use crate::graph::map::MapSpec;
use crate::hash::Digest;
use crate::report::item_node;
use crate::store::item_dir;
use crate::value::Shared;
use std::collections::HashMap;
use std::path::PathBuf;

/// Hash names are this many hex digits of the item's content hash.
const HASH_NAME: usize = 12;

/// One item of a map's list, named.
pub(crate) struct Item {
    pub(crate) value: Shared,
    pub(crate) name: String,
    /// Its node's name: `map[name]`.
    pub(crate) path: Box<str>,
    /// Its encoding and the files and directories in it, for its key.
    pub(crate) encoded: Vec<u8>,
    pub(crate) files: Vec<PathBuf>,
    /// The index of the same item earlier in the list: this one is that one again.
    pub(crate) same_as: Option<usize>,
}

/// Names each item of a map's list, in order. `map` is the map's node name, `shown` what
/// errors call it (its label, or its node name).
pub(crate) fn name_items(
    spec: &MapSpec,
    map: &str,
    shown: &str,
    values: Vec<Shared>,
) -> Result<Vec<Item>, String> {
    let mut items = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let (encoded, files) = (spec.item.encode)(&*value).map_err(|error| chain(&error))?;
        let name = match &spec.namer {
            Some(namer) => named_by(namer, &value, index, shown)?,
            None => default_name(&encoded, &files),
        };
        items.push(Item {
            path: item_node(map, &name).into_boxed_str(),
            name,
            value,
            encoded,
            files,
            same_as: None,
        });
    }
    tell_apart(&mut items, shown)?;
    Ok(items)
}

/// The name the program's function gives an item; never empty.
fn named_by(
    namer: &crate::graph::map::Namer,
    value: &Shared,
    index: usize,
    shown: &str,
) -> Result<String, String> {
    let name = namer(&**value)
        .ok_or_else(|| "internal error: a map's item has another type".to_owned())?;
    if name.is_empty() {
        return Err(format!(
            "the item at {index} in the list of `{shown}` was given an empty name; give every \
             item a name"
        ));
    }
    Ok(name)
}

/// The path of the first file or directory in the item, as given; else its hash.
fn default_name(encoded: &[u8], files: &[PathBuf]) -> String {
    match files.first().map(|path| path.to_string_lossy()) {
        Some(path) if !path.is_empty() => path.into_owned(),
        _ => Digest::of(encoded).to_hex()[..HASH_NAME].to_owned(),
    }
}

/// Marks each item met before as the same item again, or fails naming the two items that
/// have one name, or one directory, but are not the same.
fn tell_apart(items: &mut [Item], shown: &str) -> Result<(), String> {
    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut by_dir: HashMap<String, usize> = HashMap::with_capacity(items.len());
    let mut same = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if let Some(&first) = by_name.get(item.name.as_str()) {
            if items[first].encoded != item.encoded {
                return Err(format!(
                    "the items at {first} and {index} in the list of `{shown}` are both named \
                     `{}`, but are not the same item; name them apart with `Graph::map_named_by`",
                    item.name
                ));
            }
            same.push((index, first));
            continue;
        }
        by_name.insert(&item.name, index);
        let dir = item_dir(&item.name);
        if let Some(&first) = by_dir.get(&dir) {
            return Err(format!(
                "the items at {first} (`{}`) and {index} (`{}`) in the list of `{shown}` would \
                 share the directory `{dir}`; name them apart with `Graph::map_named_by`",
                items[first].name, item.name
            ));
        }
        by_dir.insert(dir, index);
    }
    for (index, first) in same {
        items[index].same_as = Some(first);
    }
    Ok(())
}
