//! The dataset the ADO simulator serves, written in ADO's own REST shapes.
//!
//! Every object is kept as the JSON ADO itself returns (a work item as
//! `GET _apis/wit/workitems/{id}?$expand=all`, a comment as in `CommentList.comments`, …),
//! so data exported from a real organization, or written by hand from Microsoft's
//! documentation, loads unchanged. Only the keys the simulator must reason about (ids,
//! fields, relations) are typed; everything else, known or not, is kept in `extra` maps and
//! served back verbatim. The format is described in `docs/sim-ado.md`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, value::RawValue};

/// A whole organization (or ADO Server collection): identities, projects and attachments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    /// The organization or collection URL the data was written against
    /// (`https://dev.azure.com/contoso`, `https://tfs.example/tfs/DefaultCollection`). Its path
    /// is the prefix requests must carry; the whole URL is replaced by the simulator's own
    /// address in every URL it serves.
    pub base_url: String,
    /// People, as `IdentityRef` objects; served by the identity search.
    #[serde(default)]
    pub identities: Vec<Value>,
    /// Team projects with their metadata, work items, comments and updates.
    #[serde(default)]
    pub projects: Vec<ProjectData>,
    /// Attachment bodies by attachment id (a GUID), inline or synthetic.
    #[serde(default)]
    pub attachments: BTreeMap<String, AttachmentSource>,
    /// Unknown top-level keys (such as the generator's `_generator` block), kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One team project and everything under it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectData {
    /// The project as `GET _apis/projects/{id}` returns it (`TeamProject`); `id` and `name`
    /// are required.
    pub project: Value,
    /// Work item types as `GET {project}/_apis/wit/workitemtypes` returns them, with states.
    #[serde(default)]
    pub work_item_types: Vec<Value>,
    /// Fields as `GET {project}/_apis/wit/fields` returns them.
    #[serde(default)]
    pub fields: Vec<Value>,
    /// The area tree: the root `WorkItemClassificationNode` with its children.
    #[serde(default)]
    pub areas: Option<Value>,
    /// The iteration tree, dates in `attributes.startDate` / `attributes.finishDate`.
    #[serde(default)]
    pub iterations: Option<Value>,
    /// Work items as `GET _apis/wit/workitems/{id}?$expand=all` returns them.
    #[serde(default)]
    pub work_items: Vec<WorkItem>,
    /// Comments by work item id (a JSON object key), as in `CommentList.comments`. Each is
    /// kept as its JSON text, parsed when served: held as [`Value`]s, comments and updates
    /// took several times their text's size, too much for a 100,000-item organization.
    #[serde(default)]
    pub comments: BTreeMap<String, Vec<Box<RawValue>>>,
    /// Updates by work item id, as in `GET _apis/wit/workItems/{id}/updates`; JSON text, as
    /// comments.
    #[serde(default)]
    pub updates: BTreeMap<String, Vec<Box<RawValue>>>,
    /// Unknown keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A work item: the typed keys the simulator filters and expands on, plus everything else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkItem {
    /// The organization-wide id.
    pub id: i64,
    /// Revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
    /// Field values by reference name (`System.Title`, …).
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Links to other items, attachments, hyperlinks and artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relations: Option<Vec<Value>>,
    /// `_links`, `url`, `commentVersionRef` and anything unknown, served back as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where an attachment's bytes come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttachmentSource {
    /// Bytes given in the dataset (small files, hand-written datasets).
    #[serde(rename_all = "camelCase")]
    Inline {
        /// The file name, used in `Content-Disposition`.
        file_name: String,
        /// The bytes, standard base64.
        content_base64: String,
    },
    /// Bytes produced on demand from a seed, so a 1 GB file costs no disk and no memory.
    #[serde(rename_all = "camelCase")]
    Synthetic {
        /// The file name.
        file_name: String,
        /// Size and seed of the deterministic byte stream.
        synthetic: SyntheticContent,
    },
}

/// Parameters of a synthetic attachment body (see [`super::attachments::synthetic_bytes`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct SyntheticContent {
    /// Length in bytes.
    pub size: u64,
    /// Seed of the ChaCha8 stream the bytes are read from.
    pub seed: u64,
}

/// A comment or update kept as JSON text, parsed. The text was valid JSON when it was loaded,
/// so this cannot fail; `Null` stands in if it ever did.
pub fn parsed(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

impl Dataset {
    /// Parses a dataset from JSON text (a UTF-8 byte-order mark is tolerated, as Microsoft's
    /// own spec files carry one).
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let dataset: Dataset = serde_json::from_str(text)
            .context("the ADO dataset is not valid JSON of the expected shape")?;
        dataset.validate()?;
        Ok(dataset)
    }

    /// Reads and parses a dataset file.
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the ADO dataset {}", path.display()))?;
        Self::from_json(&text).with_context(|| format!("in {}", path.display()))
    }

    /// How many work items the dataset holds, over all projects.
    pub fn work_item_count(&self) -> usize {
        self.projects.iter().map(|p| p.work_items.len()).sum()
    }

    /// Checks what the simulator relies on: a parsable base URL, project ids and names, and
    /// work item ids unique across the organization (as ADO numbers them).
    fn validate(&self) -> anyhow::Result<()> {
        url::Url::parse(&self.base_url)
            .with_context(|| format!("baseUrl {:?} is not a URL", self.base_url))?;
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.projects.iter().enumerate() {
            for key in ["id", "name"] {
                if p.project.get(key).and_then(Value::as_str).is_none() {
                    anyhow::bail!("projects[{i}].project has no string {key:?}");
                }
            }
            for item in &p.work_items {
                if !seen.insert(item.id) {
                    anyhow::bail!("work item {} appears twice", item.id);
                }
            }
        }
        Ok(())
    }
}
