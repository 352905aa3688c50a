//! `split.csv` beside a trained model: which image went to training and which to validation,
//! so that later tools (the gallery, the tests) see exactly the run's split.

use crate::classes::FractureClass;

/// File name of the split inside a model folder.
pub const SPLIT_FILE: &str = "split.csv";

const HEADER: &str = "part,class,file,group";

/// The side of a split an image fell on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Train,
    Valid,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Valid => "valid",
        }
    }
}

/// One image of a split: its side, class folder, file name and near-duplicate group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRow {
    pub part: Part,
    pub class: FractureClass,
    pub file: String,
    pub group: String,
}

/// The text of a `split.csv` holding `rows`, in their order.
pub fn write_split_csv(rows: &[SplitRow]) -> String {
    let mut text = format!("{HEADER}\n");
    for row in rows {
        text += &format!("{},{},{},{}\n", row.part.name(), row.class.folder_name(), row.file, row.group);
    }
    text
}

/// The rows of a `split.csv`'s text; the group, last, may itself contain commas.
pub fn parse_split_csv(text: &str) -> Result<Vec<SplitRow>, String> {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(HEADER) {
        return Err(format!("the first line is not `{HEADER}`"));
    }
    lines
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let at = |what: String| format!("line {}: {what}", n + 2);
            let fields: Vec<&str> = line.splitn(4, ',').collect();
            let [part, class, file, group] = fields[..] else {
                return Err(at(format!("expected part,class,file,group in {line:?}")));
            };
            let part = match part {
                "train" => Part::Train,
                "valid" => Part::Valid,
                other => return Err(at(format!("part {other:?} is neither train nor valid"))),
            };
            let class = FractureClass::from_folder_name(class).ok_or_else(|| at(format!("unknown class {class:?}")))?;
            Ok(SplitRow { part, class, file: file.into(), group: group.into() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_writing_and_reading() {
        let rows = vec![
            SplitRow { part: Part::Train, class: FractureClass::Spiral, file: "a b.jpg".into(), group: "g1".into() },
            SplitRow { part: Part::Valid, class: FractureClass::FractureDislocation, file: "c.jpg".into(), group: "g,2".into() },
        ];
        let text = write_split_csv(&rows);
        assert!(text.starts_with("part,class,file,group\ntrain,Spiral Fracture,a b.jpg,g1\n"));
        assert_eq!(parse_split_csv(&text).unwrap(), rows);
    }

    #[test]
    fn damaged_files_say_which_line() {
        assert!(parse_split_csv("file,group\n").unwrap_err().contains("first line"));
        let error =
            parse_split_csv("part,class,file,group\ntrain,Spiral Fracture,a.jpg,g\ntest,Spiral Fracture,b.jpg,g\n").unwrap_err();
        assert!(error.starts_with("line 3: part \"test\""), "{error}");
        assert!(parse_split_csv("part,class,file,group\ntrain,Stress,a.jpg,g\n").unwrap_err().contains("unknown class"));
    }
}
