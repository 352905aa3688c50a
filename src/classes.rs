//! The ten fracture types, in the fixed order the models' outputs use.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of fracture types the models predict.
pub const NUM_CLASSES: usize = 10;

/// One fracture type. The discriminant is the model's output index; the order is the
/// alphabetical order of the dataset's folder names, as Keras' `image_dataset_from_directory`
/// assigns labels, so the indices match the reference notebook's. It is written as its folder
/// name, as in `split.csv` and `model.json`'s `classes` (the Rust name is still read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FractureClass {
    Avulsion,
    Comminuted,
    FractureDislocation,
    Greenstick,
    Hairline,
    Impacted,
    Longitudinal,
    Oblique,
    Pathological,
    Spiral,
}

impl FractureClass {
    /// All classes in output-index order.
    pub const ALL: [FractureClass; NUM_CLASSES] = [
        FractureClass::Avulsion,
        FractureClass::Comminuted,
        FractureClass::FractureDislocation,
        FractureClass::Greenstick,
        FractureClass::Hairline,
        FractureClass::Impacted,
        FractureClass::Longitudinal,
        FractureClass::Oblique,
        FractureClass::Pathological,
        FractureClass::Spiral,
    ];

    /// The model output index of this class.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class at a model output index.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// The dataset's folder name for this class (its exact spelling, capitals included).
    pub fn folder_name(self) -> &'static str {
        match self {
            FractureClass::Avulsion => "Avulsion fracture",
            FractureClass::Comminuted => "Comminuted fracture",
            FractureClass::FractureDislocation => "Fracture Dislocation",
            FractureClass::Greenstick => "Greenstick fracture",
            FractureClass::Hairline => "Hairline Fracture",
            FractureClass::Impacted => "Impacted fracture",
            FractureClass::Longitudinal => "Longitudinal fracture",
            FractureClass::Oblique => "Oblique fracture",
            FractureClass::Pathological => "Pathological fracture",
            FractureClass::Spiral => "Spiral Fracture",
        }
    }

    /// The name the page shows: the folder name in one consistent case (the dataset capitalises
    /// three of its ten folders differently). [`Self::from_folder_name`] reads it back.
    pub fn display_name(self) -> &'static str {
        match self {
            FractureClass::FractureDislocation => "Fracture-dislocation",
            FractureClass::Hairline => "Hairline fracture",
            FractureClass::Spiral => "Spiral fracture",
            other => other.folder_name(),
        }
    }

    /// A short lower-case name for file names and ids (`fracture-dislocation`).
    pub fn slug(self) -> &'static str {
        match self {
            FractureClass::Avulsion => "avulsion",
            FractureClass::Comminuted => "comminuted",
            FractureClass::FractureDislocation => "fracture-dislocation",
            FractureClass::Greenstick => "greenstick",
            FractureClass::Hairline => "hairline",
            FractureClass::Impacted => "impacted",
            FractureClass::Longitudinal => "longitudinal",
            FractureClass::Oblique => "oblique",
            FractureClass::Pathological => "pathological",
            FractureClass::Spiral => "spiral",
        }
    }

    /// Finds the class for a folder name: the dataset's (`Spiral Fracture`) or the short slug
    /// (`spiral`). Case and surrounding spaces do not matter; nothing else is guessed.
    pub fn from_folder_name(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|class| class.folder_name().eq_ignore_ascii_case(name) || class.slug().eq_ignore_ascii_case(name))
    }

    /// The folder names of all classes, for error messages that list what is expected.
    pub fn expected_folder_names() -> String {
        Self::ALL.iter().map(|c| format!("\"{}\"", c.folder_name())).collect::<Vec<_>>().join(", ")
    }

    /// A one-line plain-language description of the fracture type.
    pub fn description(self) -> &'static str {
        match self {
            FractureClass::Avulsion => "A tendon or ligament pulls off a small piece of the bone it attaches to.",
            FractureClass::Comminuted => "The bone is broken into three or more fragments.",
            FractureClass::FractureDislocation => "A break together with a dislocation of the neighbouring joint.",
            FractureClass::Greenstick => "An incomplete break where the bone bends and cracks on one side, typical in children.",
            FractureClass::Hairline => "A thin crack, often from repeated stress, that can be hard to see.",
            FractureClass::Impacted => "The broken ends are driven into each other.",
            FractureClass::Longitudinal => "The break runs along the length of the bone.",
            FractureClass::Oblique => "A break at an angle across the bone.",
            FractureClass::Pathological => "A break through bone weakened by disease, such as a tumour or osteoporosis.",
            FractureClass::Spiral => "A break that twists around the bone, from a rotating force.",
        }
    }
}

impl std::fmt::Display for FractureClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.folder_name())
    }
}

impl Serialize for FractureClass {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.folder_name())
    }
}

/// Reads a folder name or slug, and the Rust names that earlier files were written with.
impl<'de> Deserialize<'de> for FractureClass {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        FractureClass::from_folder_name(&name)
            .or_else(|| FractureClass::ALL.into_iter().find(|c| format!("{c:?}") == name))
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "unknown fracture class {name:?}; expected one of {}",
                    FractureClass::expected_folder_names()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_share_one_case_and_read_back() {
        for class in FractureClass::ALL {
            let name = class.display_name();
            let (first, rest) = name.split_at(1);
            assert!(first.chars().all(|c| c.is_ascii_uppercase()) && !rest.chars().any(|c| c.is_ascii_uppercase()), "{name}");
            assert_eq!(FractureClass::from_folder_name(name), Some(class));
        }
        assert_eq!(FractureClass::Spiral.display_name(), "Spiral fracture");
    }

    #[test]
    fn label_order_is_fixed_and_alphabetical() {
        let names: Vec<_> = FractureClass::ALL.iter().map(|c| c.folder_name()).collect();
        assert_eq!(names[0], "Avulsion fracture");
        assert_eq!(names[2], "Fracture Dislocation");
        assert_eq!(names[9], "Spiral Fracture");
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "labels follow the folder names' sorted order, as Keras assigns them");
        for (i, class) in FractureClass::ALL.iter().enumerate() {
            assert_eq!(class.index(), i);
            assert_eq!(FractureClass::from_index(i), Some(*class));
        }
        assert_eq!(FractureClass::from_index(NUM_CLASSES), None);
    }

    #[test]
    fn folder_names_match_without_regard_to_case() {
        assert_eq!(FractureClass::from_folder_name(" hairline fracture "), Some(FractureClass::Hairline));
        assert_eq!(FractureClass::from_folder_name("Fracture-Dislocation"), Some(FractureClass::FractureDislocation));
        assert_eq!(FractureClass::from_folder_name("Stress fracture"), None);
        assert_eq!(FractureClass::from_folder_name("spiral-ish"), None);
    }

    #[test]
    fn written_as_its_folder_name_and_read_from_older_spellings() {
        assert_eq!(serde_json::to_string(&FractureClass::FractureDislocation).unwrap(), "\"Fracture Dislocation\"");
        for written in ["\"Fracture Dislocation\"", "\"FractureDislocation\"", "\"fracture-dislocation\""] {
            assert_eq!(serde_json::from_str::<FractureClass>(written).unwrap(), FractureClass::FractureDislocation);
        }
        let error = serde_json::from_str::<FractureClass>("\"Stress fracture\"").unwrap_err().to_string();
        assert!(error.contains("unknown fracture class \"Stress fracture\""), "{error}");
    }
}
