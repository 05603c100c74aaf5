//! The board page's board, drawn the way monday draws one: a coloured band per group with its
//! items as rows, status and dropdown values as coloured chips, links as short labels, people
//! as initials, and the columns that are empty on every item folded away, so that a board
//! reads at 1400 px without scrolling sideways. Every text is escaped here.

use std::fmt::Write;

use super::page::escape;
use super::seed::ColumnType;
use super::state::{Board, Column, Item, ItemState, State};

/// monday's label colours for the labels the bridge writes; other labels take the palette by
/// their position.
const NAMED: &[(&str, &str)] = &[
    ("answered", "#00c875"),
    ("done", "#00c875"),
    ("missed", "#e2445c"),
    ("stuck", "#e2445c"),
    ("abandoned", "#bb3354"),
    ("voicemail", "#a25ddc"),
    ("ringing", "#579bfc"),
    ("in progress", "#fdab3d"),
    ("working on it", "#fdab3d"),
    ("transferred", "#037f4c"),
    ("inbound", "#0086c0"),
    ("outbound", "#9d50dd"),
];
const PALETTE: &[&str] = &[
    "#fdab3d", "#00c875", "#e2445c", "#0086c0", "#a25ddc", "#579bfc", "#037f4c", "#ff642e",
    "#9d50dd", "#cab641", "#ff158a", "#66ccff",
];
/// The colours of the groups' bands, in order.
const GROUPS: &[&str] = &[
    "#579bfc", "#a25ddc", "#00c875", "#fdab3d", "#e2445c", "#037f4c",
];

pub const STYLE: &str = "\
.group{margin:1.4em 0 0}.group h2{font-size:17px;margin:0 0 6px;padding-left:8px;border-left:6px solid var(--c);color:var(--c)}\
.group h2 small{color:#676879;font-weight:normal;font-size:13px;margin-left:8px}\
table.board{border-collapse:separate;border-spacing:0;width:100%;table-layout:fixed;font-size:13px;border-left:6px solid var(--c)}\
table.board th{font-weight:500;color:#676879;background:#f5f6f8;padding:6px 4px;border-bottom:1px solid #d0d4e4;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}\
table.board td{padding:5px 4px;border-bottom:1px solid #e6e9ef;border-right:1px solid #eef0f5;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:center}\
table.board td.name,table.board th.name{text-align:left;padding-left:8px}\
table.board tr:target td{background:#e5f4ff}\
.chip{display:block;box-sizing:border-box;width:100%;padding:4px 2px;border-radius:3px;color:#fff;font-weight:500;font-size:12px;overflow:hidden;text-overflow:ellipsis}.chips .chip{display:inline-block;width:auto;padding:2px 6px;margin:0 1px}\
.tag{display:inline-block;padding:1px 6px;margin:0 2px;border-radius:10px;background:#e6e9ef;color:#323338}\
.avatar{display:inline-block;width:24px;height:24px;line-height:24px;border-radius:50%;color:#fff;font-size:11px;font-weight:600;margin:0 1px}\
tr.archived td{color:#9699a6;font-style:italic}tr.deleted td{color:#b00;text-decoration:line-through}\
.folded{color:#676879;font-size:12px;margin:4px 0 0 14px}";

fn label_colour(column: &Column, text: &str) -> &'static str {
    let lower = text.trim().to_lowercase();
    if let Some((_, c)) = NAMED.iter().find(|(n, _)| *n == lower) {
        return c;
    }
    let position = column
        .labels
        .iter()
        .position(|l| l.text.eq_ignore_ascii_case(text.trim()))
        .unwrap_or(lower.len());
    PALETTE[position % PALETTE.len()]
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

/// A link's label: its text when it has one of its own, else the host.
fn link_label(url: &str, text: &str) -> String {
    if !text.trim().is_empty() && text.trim() != url {
        return text.trim().to_string();
    }
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(url)
        .to_string()
}

/// "2026-11-20 10:21:14" as "11-20 10:21": the year and seconds are in the tooltip.
fn short_date(text: &str) -> String {
    match (text.get(5..10), text.get(11..16)) {
        (Some(day), Some(time)) if text.len() >= 16 => format!("{day} {time}"),
        (Some(day), _) if text.len() >= 10 => day.to_string(),
        _ => text.to_string(),
    }
}

/// A column's width, by what it holds; text columns share what is left.
fn width(column: &Column) -> &'static str {
    match column.column_type {
        ColumnType::Status | ColumnType::Dropdown => "104px",
        ColumnType::Numbers => "64px",
        ColumnType::Date => "92px",
        ColumnType::People => "56px",
        ColumnType::Link | ColumnType::File => "84px",
        ColumnType::Phone => "116px",
        _ => "auto",
    }
}

fn cell(column: &Column, item: &Item) -> String {
    let Some(v) = item.values.get(&column.id) else {
        return String::new();
    };
    let text = v.text.trim();
    if text.is_empty() && v.value.get("url").is_none() {
        return String::new();
    }
    match column.column_type {
        ColumnType::Status => format!(
            "<span class=chip style=\"background:{}\">{}</span>",
            label_colour(column, text),
            escape(text)
        ),
        ColumnType::Dropdown => text
            .split(", ")
            .map(|t| {
                format!(
                    "<span class=chip style=\"background:{};display:inline-block;width:auto;margin:0 1px\">{}</span>",
                    label_colour(column, t),
                    escape(t)
                )
            })
            .collect(),
        ColumnType::Tags => text
            .split(", ")
            .map(|t| format!("<span class=tag>#{}</span>", escape(t)))
            .collect(),
        ColumnType::People => text
            .split(", ")
            .map(|name| {
                format!(
                    "<span class=avatar title=\"{}\" style=\"background:{}\">{}</span>",
                    escape(name),
                    PALETTE[name.len() % PALETTE.len()],
                    escape(&initials(name))
                )
            })
            .collect(),
        ColumnType::Date => format!(
            "<span title=\"{}\">{}</span>",
            escape(text),
            escape(&short_date(text))
        ),
        _ => match v.value.get("url").and_then(|u| u.as_str()) {
            Some(url) => format!(
                "<a href=\"{}\" title=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                escape(url),
                escape(url),
                escape(&link_label(
                    url,
                    v.value.get("text").and_then(|t| t.as_str()).unwrap_or(text)
                ))
            ),
            None => format!("<span title=\"{0}\">{0}</span>", escape(text)),
        },
    }
}

/// The board's groups and items as HTML (the page refreshes this fragment).
pub fn render(state: &State, board: &Board) -> String {
    let items: Vec<&Item> = board
        .item_ids
        .iter()
        .filter_map(|id| state.items.get(id))
        .collect();
    let (shown, folded): (Vec<&Column>, Vec<&Column>) = board
        .columns
        .iter()
        .partition(|c| items.iter().any(|i| !cell(c, i).is_empty()));
    let mut out = String::new();
    for (g, group) in board.groups.iter().enumerate() {
        let rows: Vec<&&Item> = items.iter().filter(|i| i.group_id == group.id).collect();
        let colour = GROUPS[g % GROUPS.len()];
        let _ = write!(
            out,
            "<section class=group id=\"group-{}\" style=\"--c:{colour}\"><h2>{}<small>{} item(s)</small></h2>\
             <table class=board><colgroup><col style=\"width:210px\">",
            escape(&group.id),
            escape(&group.title),
            rows.len()
        );
        for c in &shown {
            let _ = write!(out, "<col style=\"width:{}\">", width(c));
        }
        out.push_str("</colgroup><tr><th class=name>Item</th>");
        for c in &shown {
            let _ = write!(out, "<th title=\"{0}\">{0}</th>", escape(&c.title));
        }
        out.push_str("</tr>");
        for item in rows {
            let _ = write!(
                out,
                "<tr id=\"item-{}\" class=\"{}\"><td class=name title=\"{}\">{}{}</td>",
                item.id,
                item.state.as_str(),
                escape(&item.name),
                escape(&item.name),
                match item.state {
                    ItemState::Active => "",
                    ItemState::Archived => " (archived)",
                    ItemState::Deleted => " (deleted)",
                }
            );
            for c in &shown {
                let _ = write!(out, "<td>{}</td>", cell(c, item));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table></section>");
    }
    if !folded.is_empty() {
        let names: Vec<String> = folded.iter().map(|c| escape(&c.title)).collect();
        let _ = write!(
            out,
            "<p class=folded id=folded>Empty on every item, folded away: {}</p>",
            names.join(", ")
        );
    }
    out
}
