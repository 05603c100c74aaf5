//! The admin pages' HTML: minijinja templates (`src/admin/templates`, compiled into the
//! binary), every value escaped by the engine unless a template says otherwise. The handlers
//! only gather what a page shows.

use std::fmt::Write;
use std::sync::LazyLock;

use actix_web::HttpResponse;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("layout.html", include_str!("templates/layout.html")),
        (
            "search_form.html",
            include_str!("templates/search_form.html"),
        ),
        ("status.html", include_str!("templates/status.html")),
        ("calls.html", include_str!("templates/calls.html")),
        ("trace.html", include_str!("templates/trace.html")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("admin template {name}: {e:#}"));
    }
    // minijinja's own HTML escape also writes `/` as `&#x2f;`, which is safe but turns every
    // item link in the page source into noise; the five characters that matter are enough in
    // text and in quoted attributes, which is all these templates use.
    env.set_formatter(|out, state, value| {
        if state.auto_escape() != AutoEscape::Html || value.is_safe() {
            return minijinja::escape_formatter(out, state, value);
        }
        let text = value.to_string();
        for c in text.chars() {
            let _ = match c {
                '&' => out.write_str("&amp;"),
                '<' => out.write_str("&lt;"),
                '>' => out.write_str("&gt;"),
                '"' => out.write_str("&quot;"),
                '\'' => out.write_str("&#39;"),
                c => out.write_char(c),
            };
        }
        Ok(())
    });
    env
});

/// The page `template` with `context`, or a 500 naming the template (a bug, not the operator's).
pub(super) fn render(template: &str, context: impl Serialize) -> HttpResponse {
    match PAGES.get_template(template).and_then(|t| t.render(context)) {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(template, error = %format!("{e:#}"), "an admin page cannot be rendered");
            HttpResponse::InternalServerError()
                .body(format!("the page {template} cannot be rendered"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_and_escapes_what_it_is_given() {
        let nasty = "<script>alert('x')</script> & \"q\"";
        let response = PAGES
            .get_template("calls.html")
            .unwrap()
            .render(minijinja::context! { title => "t", q => nasty, found => Vec::<()>::new() })
            .unwrap();
        assert!(!response.contains("<script>"), "{response}");
        assert!(
            response
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"),
            "{response}"
        );
        for name in [
            "layout.html",
            "search_form.html",
            "status.html",
            "trace.html",
        ] {
            PAGES.get_template(name).unwrap();
        }
    }
}
