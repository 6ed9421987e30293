//! CSV reading and writing through the `csv` crate.
//!
//! Reading streams the file once, reusing one record buffer, parsing each selected field into
//! its column; the feature matrix is assembled column-major at the end. Every error names the
//! file, the 1-based line (the header is line 1) and the column.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use faer::Mat;

use crate::data::{ColumnRoles, Dataset, glob};
use crate::error::{Error, Result};

/// A column to write: numeric or text.
#[derive(Clone, Copy, Debug)]
pub enum Column<'a> {
    /// Numbers, written in Rust's shortest round-trip form (reading them back gives the same bits).
    Num(&'a str, &'a [f64]),
    /// Strings, written as they are (quoted by the csv crate where needed).
    Text(&'a str, &'a [&'a str]),
    /// Numbers as [`Column::Num`], but `NaN` written as an empty field (a missing value).
    NumOrEmpty(&'a str, &'a [f64]),
}

impl Column<'_> {
    fn name(&self) -> &str {
        match self {
            Column::Num(n, _) | Column::Text(n, _) | Column::NumOrEmpty(n, _) => n,
        }
    }
    fn len(&self) -> usize {
        match self {
            Column::Num(_, v) | Column::NumOrEmpty(_, v) => v.len(),
            Column::Text(_, v) => v.len(),
        }
    }
}

fn csv_err(path: &Path, line: Option<u64>, column: Option<&str>, msg: impl Into<String>) -> Error {
    Error::Csv { path: path.to_path_buf(), line, column: column.map(str::to_string), msg: msg.into() }
}

fn from_csv_error(path: &Path, e: ::csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::io(path, io),
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            csv_err(path, line, None, format!("ragged row: {len} fields where the header has {expected_len}"))
        }
        ::csv::ErrorKind::Utf8 { err, .. } => csv_err(path, line, None, format!("invalid UTF-8: {err}")),
        other => csv_err(path, line, None, format!("{other:?}")),
    }
}

/// Parses one numeric field: empty, `NA`, `NaN` (any case) are missing (NaN).
#[inline]
fn parse_field(field: &str) -> Option<f64> {
    let t = field.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("na") {
        return Some(f64::NAN);
    }
    t.parse::<f64>().ok()
}

/// Parses a source value: gold (`gold`, `gs`, `1`, `true`) or preference (`pref`, `pb`, `0`, `false`).
pub fn parse_source(field: &str) -> Option<f64> {
    match field.trim().to_ascii_lowercase().as_str() {
        "gold" | "gs" | "1" | "1.0" | "true" => Some(1.0),
        "pref" | "pb" | "preference" | "0" | "0.0" | "false" => Some(0.0),
        _ => None,
    }
}

/// Reads a CSV with a header into a [`Dataset`] according to `roles`.
///
/// # Errors
/// [`Error::Io`] (missing file), [`Error::Csv`] (ragged row, unparsable number with line and
/// column, duplicate column names, bad source value), [`Error::MissingColumn`] (listing the
/// columns that exist), [`Error::Empty`] (no data rows, no feature columns).
pub fn read_csv(path: impl AsRef<Path>, roles: &ColumnRoles) -> Result<Dataset> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_csv_from(std::io::BufReader::with_capacity(1 << 20, file), path, roles)
}

/// The header row of a CSV file (trimmed names), e.g. to resolve column patterns before
/// [`read_csv`].
///
/// # Errors
/// [`Error::Io`] (unreadable file), [`Error::Csv`] (no header row, duplicate-free parsing errors).
pub fn read_header(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(file);
    let header: Vec<String> =
        rdr.headers().map_err(|e| from_csv_error(path, e))?.iter().map(|s| s.trim().to_string()).collect();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(csv_err(path, Some(1), None, "the file has no header row"));
    }
    Ok(header)
}

/// Reads CSV text from any reader; `path` only labels error messages and the [`Dataset`].
///
/// # Errors
/// As [`read_csv`].
pub fn read_csv_from<R: std::io::Read>(reader: R, path: &Path, roles: &ColumnRoles) -> Result<Dataset> {
    let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let header: Vec<String> =
        rdr.headers().map_err(|e| from_csv_error(path, e))?.iter().map(|s| s.trim().to_string()).collect();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(csv_err(path, Some(1), None, "the file has no header row"));
    }
    let mut seen = HashSet::new();
    for h in &header {
        if !seen.insert(h.as_str()) {
            return Err(csv_err(path, Some(1), Some(h), "duplicate column name in the header"));
        }
    }
    let index_of = |name: &str| -> Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| Error::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: header.clone(),
        })
    };

    let mut numeric_idx: Vec<(String, usize)> = Vec::new();
    for name in &roles.numeric {
        numeric_idx.push((name.clone(), index_of(name)?));
    }
    for name in &roles.optional_numeric {
        if let Some(i) = header.iter().position(|h| h == name) {
            if !numeric_idx.iter().any(|(n, _)| n == name) {
                numeric_idx.push((name.clone(), i));
            }
        }
    }
    let source_idx = match &roles.source {
        Some(s) => Some(index_of(s)?),
        None => None,
    };
    let mut text_idx: Vec<(String, usize)> = Vec::new();
    for name in &roles.text {
        if !text_idx.iter().any(|(n, _)| n == name) {
            text_idx.push((name.clone(), index_of(name)?));
        }
    }
    let role_taken = |i: usize| {
        numeric_idx.iter().any(|&(_, k)| k == i)
            || source_idx == Some(i)
            || text_idx.iter().any(|&(_, k)| k == i)
            || roles.exclude.iter().any(|e| e == &header[i])
    };
    let feature_idx: Vec<usize> = match &roles.features {
        None => (0..header.len()).filter(|&i| !role_taken(i)).collect(),
        Some(patterns) => {
            let mut idx = Vec::new();
            for p in patterns {
                if glob::is_pattern(p) {
                    let hits: Vec<usize> =
                        (0..header.len()).filter(|&i| glob::matches(p, &header[i]) && !role_taken(i)).collect();
                    if hits.is_empty() {
                        return Err(Error::MissingColumn {
                            path: path.to_path_buf(),
                            column: p.clone(),
                            available: header.clone(),
                        });
                    }
                    idx.extend(hits);
                } else {
                    idx.push(index_of(p)?);
                }
            }
            let mut uniq = HashSet::new();
            idx.retain(|i| uniq.insert(*i));
            idx
        }
    };
    if feature_idx.is_empty() {
        return Err(Error::empty(format!("{}: no feature columns selected", path.display())));
    }

    let mut feat_cols: Vec<Vec<f64>> = vec![Vec::new(); feature_idx.len()];
    let mut num_cols: Vec<Vec<f64>> = vec![Vec::new(); numeric_idx.len()];
    let mut source: Vec<f64> = Vec::new();
    let mut text_cols: Vec<Vec<String>> = vec![Vec::new(); text_idx.len()];
    let mut record = ::csv::StringRecord::new();
    let mut line: u64 = 1;
    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(from_csv_error(path, e)),
        }
        line = record.position().map_or(line + 1, |p| p.line());
        if feat_cols[0].len() == feat_cols[0].capacity() {
            let src = source_idx.map(|_| &mut source);
            let mut cols: Vec<&mut Vec<f64>> = feat_cols.iter_mut().chain(num_cols.iter_mut()).chain(src).collect();
            crate::budget::reserve_rows(&mut cols, &format!("the rows of {}", path.display()))?;
        }
        for (k, &j) in feature_idx.iter().enumerate() {
            let f = &record[j];
            let v = parse_field(f).ok_or_else(|| {
                csv_err(path, Some(line), Some(&header[j]), format!("cannot parse `{f}` as a number"))
            })?;
            feat_cols[k].push(v);
        }
        for (k, (_, j)) in numeric_idx.iter().enumerate() {
            let f = &record[*j];
            let v = parse_field(f).ok_or_else(|| {
                csv_err(path, Some(line), Some(&header[*j]), format!("cannot parse `{f}` as a number"))
            })?;
            num_cols[k].push(v);
        }
        if let Some(j) = source_idx {
            let f = &record[j];
            let v = parse_source(f).ok_or_else(|| {
                csv_err(
                    path,
                    Some(line),
                    Some(&header[j]),
                    format!("unknown source `{f}`; expected gold/gs/1 or pref/pb/0"),
                )
            })?;
            source.push(v);
        }
        for (k, (_, j)) in text_idx.iter().enumerate() {
            text_cols[k].push(record[*j].trim().to_string());
        }
    }
    let n = feat_cols[0].len();
    if n == 0 {
        return Err(Error::empty(format!("{}: no data rows after the header", path.display())));
    }
    let mut x = Mat::<f64>::zeros(n, feature_idx.len());
    for (k, col) in feat_cols.into_iter().enumerate() {
        x.col_as_slice_mut(k).copy_from_slice(&col);
    }
    let numeric: BTreeMap<String, Vec<f64>> = numeric_idx.into_iter().map(|(n, _)| n).zip(num_cols).collect();
    Ok(Dataset {
        path: path.to_path_buf(),
        feature_names: feature_idx.iter().map(|&i| header[i].clone()).collect(),
        x,
        numeric,
        source: source_idx.map(|_| source),
        text: text_idx.into_iter().map(|(n, _)| n).zip(text_cols).collect(),
    })
}

/// Writes columns of equal length as a CSV with a header.
///
/// # Errors
/// [`Error::Shape`] for columns of unequal length, [`Error::Io`] on write failure.
pub fn write_csv(path: impl AsRef<Path>, columns: &[Column<'_>]) -> Result<()> {
    let path = path.as_ref();
    let n = columns.first().map_or(0, |c| c.len());
    for c in columns {
        if c.len() != n {
            return Err(Error::shape(format!("column `{}` written to {}", c.name(), path.display()), n, c.len()));
        }
    }
    let mut w = ::csv::Writer::from_writer(crate::outfile::Pending::create(path)?);
    let wr = |e: ::csv::Error| from_csv_error(path, e);
    w.write_record(columns.iter().map(|c| c.name())).map_err(wr)?;
    let mut fields: Vec<String> = vec![String::new(); columns.len()];
    for i in 0..n {
        for (k, c) in columns.iter().enumerate() {
            fields[k].clear();
            match c {
                Column::Num(_, v) => {
                    use std::fmt::Write;
                    let _ = write!(fields[k], "{}", v[i]);
                }
                Column::Text(_, v) => fields[k].push_str(v[i]),
                Column::NumOrEmpty(_, v) => {
                    use std::fmt::Write;
                    if !v[i].is_nan() {
                        let _ = write!(fields[k], "{}", v[i]);
                    }
                }
            }
        }
        w.write_record(&fields).map_err(wr)?;
    }
    w.flush().map_err(|e| Error::io(path, e))?;
    w.into_inner().map_err(|e| Error::io(path, e.into_error()))?.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, body: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mr-csv-{}-{name}", std::process::id()));
        std::fs::write(&dir, body).unwrap();
        dir
    }

    #[test]
    fn reads_roles_and_column_major() {
        let p = tmp("ok.csv", "x1,x2,src,y,id\n1,2,gold,3,a\n4,5,pref,6,b\n");
        let roles = ColumnRoles {
            numeric: vec!["y".into()],
            source: Some("src".into()),
            exclude: vec!["id".into()],
            ..Default::default()
        };
        let d = read_csv(&p, &roles).unwrap();
        assert_eq!(d.feature_names, vec!["x1", "x2"]);
        assert_eq!(d.x.col_as_slice(1), &[2.0, 5.0]);
        assert_eq!(d.column("y").unwrap(), &[3.0, 6.0]);
        assert_eq!(d.source.as_deref(), Some(&[1.0, 0.0][..]));
    }

    #[test]
    fn text_columns_are_strings_and_never_features() {
        let p = tmp("text.csv", "q,x1,m,y\n a ,1,gpt,3\nb,2, llama ,\n");
        let roles = ColumnRoles { text: vec!["q".into(), "m".into()], numeric: vec!["y".into()], ..Default::default() };
        let d = read_csv(&p, &roles).unwrap();
        assert_eq!(d.feature_names, vec!["x1"]);
        assert_eq!(d.text_column("q").unwrap(), &["a", "b"]);
        assert_eq!(d.text_column("m").unwrap(), &["gpt", "llama"]);
        assert!(d.column("y").unwrap()[1].is_nan());
        let e = read_csv(&p, &ColumnRoles { text: vec!["z".into()], ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("no column `z`"), "{e}");
        let sub = d.select_rows(&[1]);
        assert_eq!(sub.text_column("m").unwrap(), &["llama"]);
        // NaN as an empty field, read back as missing
        let out = tmp("blank.csv", "");
        write_csv(&out, &[Column::NumOrEmpty("a", &[1.5, f64::NAN]), Column::Num("b", &[1.0, 2.0])]).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "a,b\n1.5,1\n,2\n");
    }

    #[test]
    fn errors_name_line_and_column() {
        let p = tmp("bad.csv", "a,b,y\n1,2,3\n4,zz,6\n");
        let e = read_csv(&p, &ColumnRoles { numeric: vec!["y".into()], ..Default::default() }).unwrap_err();
        assert!(matches!(&e, Error::Csv { line: Some(3), column: Some(c), .. } if c == "b"), "{e}");
        let p = tmp("rag.csv", "a,b,y\n1,2,3\n4,6\n");
        let e = read_csv(&p, &ColumnRoles::default()).unwrap_err();
        assert!(matches!(&e, Error::Csv { line: Some(3), .. }), "{e}");
        let p = tmp("dup.csv", "a,a,y\n1,2,3\n");
        assert!(matches!(read_csv(&p, &ColumnRoles::default()), Err(Error::Csv { line: Some(1), .. })));
        let p = tmp("miss.csv", "a,b\n1,2\n");
        let e = read_csv(&p, &ColumnRoles { numeric: vec!["y".into()], ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("a, b"), "{e}");
        let p = tmp("empty.csv", "a,b\n");
        assert!(matches!(read_csv(&p, &ColumnRoles::default()), Err(Error::Empty { .. })));
        assert!(matches!(read_csv("/nonexistent/x.csv", &ColumnRoles::default()), Err(Error::Io { .. })));
    }

    #[test]
    fn round_trips_bits_and_nan_is_located() {
        let v = [0.1, 1.0 / 3.0, -2.5e-300, f64::NAN];
        let p = std::env::temp_dir().join(format!("mr-csv-{}-rt.csv", std::process::id()));
        write_csv(&p, &[Column::Num("x", &v), Column::Text("d", &["a", "b,c", "d", "e"])]).unwrap();
        let d = read_csv(&p, &ColumnRoles { exclude: vec!["d".into()], ..Default::default() }).unwrap();
        let back = d.x.col_as_slice(0);
        assert!(v[..3].iter().zip(back).all(|(a, b)| a.to_bits() == b.to_bits()));
        let e = d.check_finite_features().unwrap_err();
        assert!(matches!(&e, Error::Csv { line: Some(5), .. }), "{e}");
    }
}
