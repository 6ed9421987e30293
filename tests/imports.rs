//! No import circles between source files: every `use crate::...` (and inline `crate::a::b`
//! path) in `src/` is an edge from its file to the file of the module it names (`a::b` is `src/a/b.rs` or `src/a/b/mod.rs`; an item
//! path resolves to the deepest module file it passes through), and the graph must have no
//! cycle. `use super::...` (a child reaching its parent) and `src/main.rs` (the binary) are not
//! edges. A failure lists every circle, one per strongly connected component.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file relative to `src/`: `lib.rs` is `[]`, `a/mod.rs` and `a.rs` are
/// `[a]`, `a/b.rs` is `[a, b]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// Removes `//` comments (doc comments included), keeping string contents as they are.
fn strip_comments(text: &str) -> String {
    text.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect::<Vec<_>>().join("\n")
}

/// Expands a use tree (`a::{b, c::{d, e}}`, `self`, globs, `as` renames) into paths.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> =
            tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        let base: Vec<String> = prefix.iter().cloned().chain(head).collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &base, out);
    } else if !tree.is_empty() {
        let tree = tree.split(" as ").next().unwrap();
        let mut path = prefix.to_vec();
        path.extend(tree.split("::").map(str::trim).filter(|s| *s != "self" && *s != "*").map(String::from));
        out.push(path);
    }
}

/// The `crate::...` paths of a source text: the use trees of `use crate::...` and every other
/// `crate::a::b` path written inline (a call such as `crate::eval::svg::render(..)` depends on
/// that file as much as an import does).
fn crate_uses(text: &str) -> Vec<Vec<String>> {
    let text = strip_comments(text);
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        let after = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            rest = after;
            continue;
        }
        if rest[..i].trim_end().ends_with("use") {
            let end = after.find(';').unwrap_or(after.len());
            expand(&after[..end], &[], &mut out);
            rest = &after[end..];
        } else {
            let end = after
                .char_indices()
                .find(|&(k, c)| {
                    !(c.is_alphanumeric()
                        || c == '_'
                        || (c == ':' && after[k..].starts_with("::"))
                        || (c == ':' && after[..k].ends_with(':')))
                })
                .map_or(after.len(), |(k, _)| k);
            let path = after[..end].split("::").filter(|s| !s.is_empty()).map(String::from).collect();
            out.push(path);
            rest = &after[end..];
        }
    }
    out
}

/// The circles of a directed graph: its strongly connected components with more than one node
/// (Tarjan), each sorted.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(next) = s.edges.get(v) {
            for w in next {
                if !s.index.contains_key(w.as_str()) {
                    visit(s, w);
                    let lw = s.low[w.as_str()];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w.as_str()) {
                    let iw = s.index[w.as_str()];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// The file-to-file edges of `use crate::...` in `src/`, by path relative to the repository.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let name = |p: &Path| p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|p| !p.ends_with("main.rs") || p.parent() != Some(src.as_path()))
        .map(|p| (module_path(p.strip_prefix(&src).unwrap()), name(p)))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in modules.values() {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let targets = edges.entry(file.clone()).or_default();
        for path in crate_uses(&text) {
            // the deepest module file the path passes through
            let target = (0..=path.len()).rev().find_map(|k| modules.get(&path[..k]));
            if let Some(t) = target.filter(|t| *t != file) {
                targets.insert(t.clone());
            }
        }
    }
    edges
}

#[test]
fn the_checker_finds_a_circle_and_expands_use_trees() {
    let mut paths = Vec::new();
    expand("learn::{check, forest::{self, Tree as T}, spec::*}", &[], &mut paths);
    let want: Vec<Vec<String>> =
        [vec!["learn", "check"], vec!["learn", "forest"], vec!["learn", "forest", "Tree"], vec!["learn", "spec"]]
            .iter()
            .map(|p| p.iter().map(|s| s.to_string()).collect())
            .collect();
    assert_eq!(paths, want);
    let inline = crate_uses("let x = crate::eval::svg::draw(&a, b::c);\nuse crate::learn::{spec, check};");
    assert_eq!(inline, [vec!["eval", "svg", "draw"], vec!["learn", "spec"], vec!["learn", "check"]]);
    let edge = |a: &str, b: &str| (a.to_string(), BTreeSet::from([b.to_string()]));
    let g = BTreeMap::from([edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("d", "a")]);
    assert_eq!(circles(&g), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
}

#[test]
fn no_source_file_imports_a_file_that_imports_it_back() {
    let found = circles(&import_graph());
    let listed: Vec<String> = found.iter().map(|c| format!("circle: {}", c.join(", "))).collect();
    assert!(found.is_empty(), "import circles between source files:\n{}", listed.join("\n"));
}

/// The layers of ARCHITECTURE.md: each top-level module of `src/` and the top-level modules its
/// non-test code may import. Test modules (everything after a file's `#[cfg(test)]`, which
/// clippy keeps last) may reach any layer.
const LAYERS: &[(&str, &[&str])] = &[
    // foundation
    ("error", &[]),
    ("rng", &[]),
    ("par", &["rng"]),
    ("budget", &["error"]),
    ("outfile", &["error"]),
    ("params", &["error"]),
    ("check", &["error", "par"]),
    ("linalg", &["error", "par", "check"]),
    ("persist", &["error", "outfile", "budget"]),
    // data and learners
    ("data", &["error", "budget", "outfile", "linalg", "check"]),
    ("learn", &["error", "rng", "par", "budget", "params", "check", "linalg", "persist"]),
    ("sim", &["error", "rng", "budget", "params", "linalg", "data"]),
    // the method
    ("causal", &["error", "rng", "par", "budget", "params", "check", "linalg", "learn"]),
    ("router", &["error", "rng", "par", "budget", "params", "check", "linalg", "persist", "learn", "causal"]),
    // studies and the command line
    (
        "eval",
        &["error", "rng", "par", "budget", "outfile", "params", "check", "linalg", "learn", "causal", "router", "sim"],
    ),
    (
        "cli",
        &[
            "error", "rng", "par", "budget", "outfile", "params", "check", "linalg", "persist", "data", "learn", "sim",
            "causal", "router", "eval",
        ],
    ),
    ("fuzzing", &["error", "rng", "budget", "params", "persist", "data", "learn", "router", "cli"]),
];

/// The top-level module of a file path relative to the repository (`src/a/b.rs` and `src/a.rs`
/// are `a`; `src/lib.rs` is `lib`).
fn top_module(file: &str) -> String {
    let rest = file.trim_start_matches("src/");
    rest.split('/').next().unwrap_or(rest).trim_end_matches(".rs").to_string()
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for path in &files {
        let file = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let module = top_module(&file);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(ok) = allowed.get(module.as_str()) else {
            wrong.push(format!("{file}: module `{module}` has no row in LAYERS (tests/imports.rs)"));
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let used: BTreeSet<String> = crate_uses(code).into_iter().filter_map(|p| p.first().cloned()).collect();
        for m in used {
            let known = allowed.contains_key(m.as_str());
            if known && m != module && !ok.contains(&m.as_str()) {
                wrong.push(format!("{file} (layer `{module}`) imports `{m}`"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers of ARCHITECTURE.md:\n{}", wrong.join("\n"));
}
