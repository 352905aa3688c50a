//! The images a fine-tuning run learns from: a folder with one subfolder per class, images
//! dropped onto a class, or the bundled demo set. Counts per class, with warnings; folders
//! that name no class are reported, never guessed.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList};

use crate::classes::FractureClass;
use crate::data::manifest_groups;
use crate::fetch::{fetch_bytes, js_message};
use crate::worker::LabelledFile;
use crate::NUM_CLASSES;

/// Folder of the bundled demo set, relative to the page (`manifest.csv` + `<slug>/<file>`).
pub const DEMO_URL: &str = "finetune-demo";
/// Below this many images a class's held-out score means little.
pub const FEW_IMAGES: usize = 5;

/// One labelled image, kept in the page until the visitor clears the set.
#[derive(Debug, Clone, PartialEq)]
pub struct PageImage {
    pub name: String,
    pub class: FractureClass,
    pub group: String,
    pub bytes: Vec<u8>,
}

/// The labelled set being assembled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledSet {
    pub images: Vec<PageImage>,
    /// Folders whose name is not a class, with how many files they held (not used).
    pub unknown_folders: Vec<(String, usize)>,
    /// Files outside any class folder (not used).
    pub loose_files: Vec<String>,
    /// Where the images came from, for the status line.
    pub source: String,
}

impl LabelledSet {
    pub fn counts(&self) -> [usize; NUM_CLASSES] {
        let mut counts = [0; NUM_CLASSES];
        for image in &self.images {
            counts[image.class.index()] += 1;
        }
        counts
    }

    /// What the worker needs.
    pub fn to_files(&self) -> Vec<LabelledFile> {
        self.images
            .iter()
            .map(|i| LabelledFile {
                name: i.name.clone(),
                class: i.class.index(),
                group: i.group.clone(),
                bytes: i.bytes.clone(),
            })
            .collect()
    }
}

/// Loads the bundled demo set, reporting `(done, total)` files.
pub async fn load_demo(mut progress: impl FnMut(usize, usize)) -> Result<LabelledSet, String> {
    let manifest = fetch_bytes(&format!("{DEMO_URL}/manifest.csv")).await?;
    let groups = manifest_groups(&manifest).map_err(|e| format!("the demo's manifest.csv: {e}"))?;
    let mut entries: Vec<_> = groups.into_iter().collect();
    entries.sort();
    let mut set = LabelledSet { source: "the demo set".into(), ..Default::default() };
    for (i, ((class, file), group)) in entries.iter().enumerate() {
        progress(i, entries.len());
        let bytes = fetch_bytes(&format!("{DEMO_URL}/{}/{file}", class.slug())).await?;
        set.images.push(PageImage { name: format!("{}/{file}", class.slug()), class: *class, group: group.clone(), bytes });
    }
    progress(entries.len(), entries.len());
    Ok(set)
}

/// Reads a picked folder: `root/<class>/<file>` files are images of `<class>`; a
/// `root/manifest.csv` gives groups; everything else is reported.
pub async fn read_folder(files: Vec<File>) -> LabelledSet {
    let mut set = LabelledSet { source: "your folder".into(), ..Default::default() };
    let mut manifest = None;
    let mut unknown: std::collections::BTreeMap<String, usize> = Default::default();
    let mut picked = Vec::new();
    for file in files {
        let path = relative_path(&file);
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let name = parts.last().copied().unwrap_or_default().to_string();
        if name.starts_with('.') {
            continue; // .DS_Store and friends
        }
        if parts.len() < 3 {
            if name.eq_ignore_ascii_case("manifest.csv") {
                manifest = Some(file);
            } else {
                set.loose_files.push(path.clone());
            }
            continue;
        }
        let folder = parts[parts.len() - 2];
        match FractureClass::from_folder_name(folder) {
            Some(class) => picked.push((class, name, path.clone(), file)),
            None => *unknown.entry(folder.to_string()).or_default() += 1,
        }
    }
    set.unknown_folders = unknown.into_iter().collect();
    let groups = match manifest {
        Some(file) => match read_bytes(&file).await.and_then(|bytes| manifest_groups(&bytes)) {
            Ok(groups) => groups,
            Err(e) => {
                set.loose_files.push(format!("manifest.csv (not used: {e})"));
                Default::default()
            }
        },
        None => Default::default(),
    };
    for (class, name, path, file) in picked {
        match read_bytes(&file).await {
            Ok(bytes) => {
                let group = groups.get(&(class, name)).cloned().unwrap_or_else(|| path.clone());
                set.images.push(PageImage { name: path, class, group, bytes });
            }
            Err(_) => set.loose_files.push(format!("{path} (the browser could not read it)")),
        }
    }
    set
}

fn relative_path(file: &File) -> String {
    js_sys::Reflect::get(file, &"webkitRelativePath".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

pub async fn read_bytes(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|e| js_message(&e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

pub fn file_list(list: Option<FileList>) -> Vec<File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default()
}

/// The picker: a folder input, a drop target per class, and the counts.
#[component]
pub fn DataPicker(set: RwSignal<LabelledSet>) -> impl IntoView {
    let on_folder = move |ev: ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        let files = file_list(input.files());
        input.set_value("");
        spawn_local(async move { set.set(read_folder(files).await) });
    };
    let add_to_class = move |class: FractureClass, files: Vec<File>| {
        spawn_local(async move {
            let mut added = Vec::new();
            for file in files {
                if let Ok(bytes) = read_bytes(&file).await {
                    let name = format!("{}/{}", class.slug(), file.name());
                    added.push(PageImage { group: name.clone(), name, class, bytes });
                }
            }
            set.update(|s| {
                if s.source.is_empty() {
                    s.source = "your images".into();
                }
                s.images.extend(added);
            });
        });
    };
    view! {
        <div class="finetune-data">
            <label class="folder-pick">
                <strong>"Pick a folder"</strong>
                " with one subfolder per fracture type (named like the classes below, e.g. "
                <code>"Spiral Fracture"</code>" or "<code>"spiral"</code>
                "). A "<code>"manifest.csv"</code>" with "<code>"class,file,group"</code>
                " columns keeps near-copies together when splitting."
                <input type="file" data-testid="finetune-folder" prop:webkitdirectory=true multiple on:change=on_folder />
            </label>
            <p class="hint">"Or drop images onto a class (or click it to choose files):"</p>
            <table class="class-counts" data-testid="finetune-counts">
                <tbody>
                    {FractureClass::ALL
                        .iter()
                        .map(|&class| {
                            let count = move || set.with(|s| s.counts()[class.index()]);
                            let warning = move || match count() {
                                0 => "no images: the model will not learn this class",
                                n if n < FEW_IMAGES => "few images: its score will be noisy",
                                _ => "",
                            };
                            let on_drop = move |ev: ev::DragEvent| {
                                ev.prevent_default();
                                add_to_class(class, file_list(ev.data_transfer().and_then(|d| d.files())));
                            };
                            let on_pick = move |ev: ev::Event| {
                                let input = event_target::<web_sys::HtmlInputElement>(&ev);
                                add_to_class(class, file_list(input.files()));
                                input.set_value("");
                            };
                            view! {
                                <tr data-class=class.slug()>
                                    <td>
                                        <label
                                            class="class-drop"
                                            on:dragover=move |ev: ev::DragEvent| ev.prevent_default()
                                            on:drop=on_drop
                                        >
                                            {class.display_name()}
                                            <input
                                                type="file"
                                                accept="image/*,.dcm,.dicom,application/dicom"
                                                multiple
                                                data-testid="finetune-class-input"
                                                data-class=class.slug()
                                                on:change=on_pick
                                            />
                                        </label>
                                    </td>
                                    <td class="count" data-testid="finetune-count">{count}</td>
                                    <td class="warning">{warning}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {move || {
                set.with(|s| {
                    let unknown = (!s.unknown_folders.is_empty()).then(|| {
                        let list = s
                            .unknown_folders
                            .iter()
                            .map(|(f, n)| format!("“{f}” ({n} files)"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        view! {
                            <p class="warning" data-testid="finetune-unknown" role="alert">
                                {format!(
                                    "Not used — these folders name no class: {list}. Expected one of: {}.",
                                    FractureClass::expected_folder_names()
                                )}
                            </p>
                        }
                    });
                    let loose = (!s.loose_files.is_empty()).then(|| {
                        view! {
                            <p class="warning">
                                {format!("Not used — not inside a class folder: {}.", s.loose_files.join(", "))}
                            </p>
                        }
                    });
                    (unknown, loose)
                })
            }}
            <p class="set-summary">
                {move || set.with(|s| match s.images.len() {
                    0 => "No images yet.".to_string(),
                    n => format!("{n} images from {}.", s.source),
                })}
                " "
                <button on:click=move |_| set.set(LabelledSet::default())>"Clear"</button>
            </p>
        </div>
    }
}
