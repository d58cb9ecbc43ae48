//! One item previewed as Jira would show it: the item is read from ADO on request, put through
//! the transform, and answered; nothing of it is stored or logged.

use anyhow::Context as _;
use serde_json::{Value, json};

use super::context::load_context;
use crate::{app::AppState, intake::connect::stored_client, mapping::transform::transform};

/// The create payload, the plan after creation, the problems and an HTML rendering.
pub async fn preview(
    state: &AppState,
    client_key: &str,
    mapping_id: &str,
    ado_id: i64,
) -> anyhow::Result<Option<Value>> {
    let ctx = load_context(state, client_key, mapping_id, None).await?;
    if !ctx.scope.contains_key(&ado_id) {
        return Ok(None);
    }
    let ado = stored_client(state, client_key, &ctx.connection_id).await?;
    let items = ado
        .work_items(&ctx.project, &[ado_id])
        .await
        .context("reading the work item")?;
    let Some(item) = items.first() else {
        return Ok(None);
    };
    let links = ctx.resolver();
    let plan = transform(item, &ctx.transform_context(&links));
    let type_name = plan
        .jira_type
        .as_deref()
        .and_then(|id| ctx.target.issue_type(id))
        .map(|t| t.name.clone());
    let transitions: Vec<String> = plan
        .jira_type
        .as_deref()
        .and_then(|id| ctx.target.issue_type(id))
        .map(|t| {
            plan.transitions
                .iter()
                .filter_map(|id| {
                    t.workflow
                        .transitions
                        .iter()
                        .find(|x| &x.id == id)
                        .map(|x| x.name.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut html = String::new();
    for (id, value) in &plan.fields {
        if value.get("type").and_then(Value::as_str) == Some("doc") {
            html.push_str(&format!(
                "<section data-field=\"{}\">{}</section>",
                escape(id),
                render(value)
            ));
        }
    }
    Ok(Some(json!({
        "adoId": plan.ado_id, "adoType": plan.ado_type, "jiraType": plan.jira_type, "jiraTypeName": type_name,
        "create": { "fields": plan.fields, "properties": plan.properties() },
        "parentAdoId": plan.parent, "sprint": plan.sprint, "transitions": transitions,
        "links": plan.links.len(), "files": plan.files, "comments": plan.comments, "overflowComments": plan.overflow.len(),
        "problems": plan.problems, "html": html,
    })))
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// ADF → HTML, close to how Jira renders it; every text is escaped and only http(s) links
/// are kept as links, so a preview cannot carry script.
pub fn render(node: &Value) -> String {
    render_at(node, 0)
}

fn render_at(node: &Value, depth: usize) -> String {
    if depth > 64 {
        return String::new();
    }
    let children = || -> String {
        node.get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| render_at(c, depth + 1))
            .collect()
    };
    let attr = |k: &str| node.get("attrs").and_then(|a| a.get(k));
    let wrap = |tag: &str| format!("<{tag}>{}</{tag}>", children());
    match node.get("type").and_then(Value::as_str).unwrap_or("") {
        "doc" => children(),
        "paragraph" => wrap("p"),
        "heading" => {
            let level = attr("level")
                .and_then(Value::as_u64)
                .unwrap_or(3)
                .clamp(1, 6);
            format!("<h{level}>{}</h{level}>", children())
        }
        "bulletList" => wrap("ul"),
        "orderedList" => wrap("ol"),
        "listItem" => wrap("li"),
        "blockquote" => wrap("blockquote"),
        "codeBlock" => format!("<pre><code>{}</code></pre>", children()),
        "rule" => "<hr>".into(),
        "hardBreak" => "<br>".into(),
        "table" => format!("<table>{}</table>", children()),
        "tableRow" => wrap("tr"),
        "tableHeader" => wrap("th"),
        "tableCell" => wrap("td"),
        "mention" => format!(
            "<span class=\"mention\">{}</span>",
            escape(attr("text").and_then(Value::as_str).unwrap_or("@someone"))
        ),
        "inlineCard" => link(
            attr("url").and_then(Value::as_str).unwrap_or(""),
            &escape(attr("url").and_then(Value::as_str).unwrap_or("")),
        ),
        "mediaSingle" | "mediaGroup" => format!("<figure>{}</figure>", children()),
        "media" => format!(
            "<span class=\"media\">[{}]</span>",
            escape(attr("url").and_then(Value::as_str).unwrap_or("attachment"))
        ),
        "text" => marks(
            node,
            escape(node.get("text").and_then(Value::as_str).unwrap_or("")),
        ),
        _ => children(),
    }
}

fn link(href: &str, inner: &str) -> String {
    if href.starts_with("https://") || href.starts_with("http://") {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{inner}</a>",
            escape(href)
        )
    } else {
        inner.to_owned()
    }
}

fn marks(node: &Value, mut html: String) -> String {
    for m in node
        .get("marks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        html = match m.get("type").and_then(Value::as_str).unwrap_or("") {
            "strong" => format!("<strong>{html}</strong>"),
            "em" => format!("<em>{html}</em>"),
            "code" => format!("<code>{html}</code>"),
            "strike" => format!("<s>{html}</s>"),
            "underline" => format!("<u>{html}</u>"),
            "link" => link(
                m.get("attrs")
                    .and_then(|a| a.get("href"))
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                &html,
            ),
            _ => html,
        };
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_text_and_refuses_script_links() {
        let doc = json!({ "type": "doc", "version": 1, "content": [
            { "type": "paragraph", "content": [
                { "type": "text", "text": "<script>x</script>", "marks": [{ "type": "strong" }] },
                { "type": "text", "text": "bad", "marks": [{ "type": "link", "attrs": { "href": "javascript:alert(1)" } }] },
                { "type": "text", "text": "good", "marks": [{ "type": "link", "attrs": { "href": "https://a.example/?q=\"x\"" } }] } ] } ] });
        assert_eq!(
            render(&doc),
            "<p><strong>&lt;script&gt;x&lt;/script&gt;</strong>bad<a href=\"https://a.example/?q=&quot;x&quot;\" rel=\"noopener noreferrer\" target=\"_blank\">good</a></p>"
        );
    }
}
