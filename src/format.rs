//! Text for people: byte sizes and aligned tables.
//!
//! Kept apart from the commands so that every table in ferry lines up the
//! same way and sizes read the same everywhere.

/// 1536 -> "1.5 KiB"; binary units, one decimal above bytes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Columns padded to their widest cell; the last column is never padded.
pub fn table(header: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header
        .iter()
        .map(|(name, _)| name.chars().count())
        .collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let names: Vec<String> = header.iter().map(|(name, _)| name.to_string()).collect();
    for row in std::iter::once(&names).chain(rows) {
        let last = row.len().saturating_sub(1);
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            let pad = widths[column].saturating_sub(cell.chars().count());
            let align = header[column].1;
            if column > 0 {
                line.push_str("  ");
            }
            if align == Align::Right {
                line.push_str(&" ".repeat(pad));
            }
            line.push_str(cell);
            if align == Align::Left && column != last {
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn tables_align_columns() {
        let text = table(
            &[
                ("NAME", Align::Left),
                ("SIZE", Align::Right),
                ("NOTE", Align::Left),
            ],
            &[
                vec!["a".into(), "10 B".into(), "x".into()],
                vec!["longer".into(), "2.0 KiB".into(), "".into()],
            ],
        );
        assert_eq!(
            text,
            "NAME       SIZE  NOTE\na          10 B  x\nlonger  2.0 KiB\n"
        );
    }
}
