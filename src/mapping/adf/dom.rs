//! A flat arena DOM that html5ever's tree builder fills, and an iterative walk over it.
//! [`super::depth::parse`] drives the parser.
//!
//! `markup5ever_rcdom` is documented as unsupported and meant for html5ever's own tests; its
//! `Rc<RefCell>` nodes also cost an allocation and a reference count per node. Here nodes live
//! in one `Vec` linked by index, so building is a push, dropping a 10,000-deep tree is freeing
//! one vector (no recursive `Drop`), and the walk needs no stack at all: it follows
//! parent/sibling links.

use std::borrow::Cow;
use std::cell::RefCell;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::{Attribute, ExpandedName, LocalName, QualName, local_name, ns};

/// A node's index in [`Dom::nodes`].
pub(super) type Id = usize;

/// The document node; the walk starts here.
pub(super) const ROOT: Id = 0;

/// An element: its name and attributes.
pub(super) struct Elem {
    /// Qualified name; only HTML-namespace elements carry meaning for us.
    pub name: QualName,
    /// Attributes as parsed (entities decoded).
    pub attrs: Vec<Attribute>,
}

impl Elem {
    /// The local name if the element is in the HTML namespace.
    pub fn html_name(&self) -> Option<&LocalName> {
        (self.name.ns == ns!(html)).then_some(&self.name.local)
    }

    /// The value of attribute `name` (no namespace), if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name.ns == ns!() && &*a.name.local == name)
            .map(|a| &*a.value)
    }
}

enum Data {
    Document,
    Element(Elem),
    Text(StrTendril),
    /// Comments, processing instructions, template contents: never shown.
    Other,
}

struct Node {
    /// Depth below the document when linked (descendants of a moved node keep theirs).
    depth: u32,
    parent: Option<Id>,
    first: Option<Id>,
    last: Option<Id>,
    prev: Option<Id>,
    next: Option<Id>,
    data: Data,
}

/// A parsed HTML fragment.
pub(super) struct Dom {
    nodes: Vec<Node>,
    /// The depth of the latest insertion: a linked element's own, a text's parent's. The
    /// parser's stack of open elements is (about) an ancestor chain, so this bounds its depth.
    last_depth: u32,
}

/// One step of [`Dom::walk`].
pub(super) enum Visit<'a> {
    /// An element is entered; the callback's answer says whether to descend.
    Enter(Id, &'a Elem),
    /// An element is left (sent for every element that was entered).
    Leave(Id, &'a Elem),
    /// A run of text.
    Text(&'a str),
}

impl Dom {
    /// Visits the descendants of `root` in document order without recursion.
    pub fn walk<'a>(&'a self, root: Id, mut f: impl FnMut(Visit<'a>) -> bool) {
        let mut cur = self.nodes.get(root).and_then(|n| n.first);
        while let Some(id) = cur {
            let node = &self.nodes[id];
            let descend = match &node.data {
                Data::Element(e) => f(Visit::Enter(id, e)),
                Data::Text(t) => {
                    f(Visit::Text(t));
                    false
                }
                Data::Document | Data::Other => false,
            };
            if descend && node.first.is_some() {
                cur = node.first;
                continue;
            }
            // Leave this node, then every ancestor that has no next sibling.
            let mut n = id;
            cur = loop {
                if let Data::Element(e) = &self.nodes[n].data {
                    f(Visit::Leave(n, e));
                }
                if let Some(next) = self.nodes[n].next {
                    break Some(next);
                }
                match self.nodes[n].parent {
                    Some(p) if p != root => n = p,
                    _ => break None,
                }
            };
        }
    }

    fn push(&mut self, data: Data) -> Id {
        self.nodes.push(Node {
            depth: 0,
            parent: None,
            first: None,
            last: None,
            prev: None,
            next: None,
            data,
        });
        self.nodes.len() - 1
    }

    fn detach(&mut self, id: Id) {
        let (parent, prev, next) = {
            let n = &self.nodes[id];
            (n.parent, n.prev, n.next)
        };
        let Some(parent) = parent else { return };
        match prev {
            Some(p) => self.nodes[p].next = next,
            None => self.nodes[parent].first = next,
        }
        match next {
            Some(n) => self.nodes[n].prev = prev,
            None => self.nodes[parent].last = prev,
        }
        let n = &mut self.nodes[id];
        (n.parent, n.prev, n.next) = (None, None, None);
    }

    /// Links detached `id` under `parent`, before `before` (or last).
    fn link(&mut self, parent: Id, id: Id, before: Option<Id>) {
        let prev = match before {
            Some(b) => self.nodes[b].prev,
            None => self.nodes[parent].last,
        };
        let depth = self.nodes[parent].depth.saturating_add(1);
        {
            let n = &mut self.nodes[id];
            (n.parent, n.prev, n.next, n.depth) = (Some(parent), prev, before, depth);
            self.last_depth = if let Data::Text(_) = n.data {
                depth - 1
            } else {
                depth
            };
        }
        match prev {
            Some(p) => self.nodes[p].next = Some(id),
            None => self.nodes[parent].first = Some(id),
        }
        match before {
            Some(b) => self.nodes[b].prev = Some(id),
            None => self.nodes[parent].last = Some(id),
        }
    }

    /// Inserts a node or text under `parent` before `before` (or last), merging adjacent text.
    fn insert(&mut self, parent: Id, child: NodeOrText<Handle>, before: Option<Id>) {
        match child {
            NodeOrText::AppendNode(h) => {
                self.detach(h.id);
                self.link(parent, h.id, before);
            }
            NodeOrText::AppendText(t) => {
                let prev = match before {
                    Some(b) => self.nodes[b].prev,
                    None => self.nodes[parent].last,
                };
                if let Some(Data::Text(existing)) = prev.map(|p| &mut self.nodes[p].data) {
                    existing.push_tendril(&t);
                    self.last_depth = self.nodes[parent].depth;
                } else {
                    let id = self.push(Data::Text(t));
                    self.link(parent, id, before);
                }
            }
        }
    }
}

/// A node handle for the tree builder: the index plus the element's name, which the builder
/// asks for by reference.
#[derive(Clone)]
pub(super) struct Handle {
    id: Id,
    name: QualName,
}

/// The tree builder's view of a [`Dom`] being built.
pub(super) struct Sink(RefCell<Dom>);

fn no_name() -> QualName {
    QualName::new(None, ns!(), local_name!(""))
}

impl Sink {
    /// A sink holding only the document node, sized for `len` bytes of HTML.
    pub fn new(len: usize) -> Self {
        let mut dom = Dom {
            nodes: Vec::with_capacity(len / 16 + 4),
            last_depth: 0,
        };
        dom.push(Data::Document);
        Self(RefCell::new(dom))
    }

    /// The parsed document.
    pub fn into_dom(self) -> Dom {
        self.0.into_inner()
    }

    /// The depth of the latest insertion (see [`Dom`]).
    pub fn last_depth(&self) -> u32 {
        self.0.borrow().last_depth
    }

    fn handle(&self, data: Data, name: QualName) -> Handle {
        Handle {
            id: self.0.borrow_mut().push(data),
            name,
        }
    }
}

impl TreeSink for Sink {
    type Handle = Handle;
    type Output = Dom;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Dom {
        self.into_dom()
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        Handle {
            id: ROOT,
            name: no_name(),
        }
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        target.name.expanded()
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, _: ElementFlags) -> Handle {
        // Template contents are a separate fragment that is never shown: `get_template_contents`
        // hands out a fresh detached node, so they fall outside the walk.
        let elem = Elem {
            name: name.clone(),
            attrs,
        };
        self.handle(Data::Element(elem), name)
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        self.handle(Data::Other, no_name())
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        self.handle(Data::Other, no_name())
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        self.0.borrow_mut().insert(parent.id, child, None);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        let parent = self.0.borrow().nodes[element.id].parent;
        match parent {
            Some(p) => self.0.borrow_mut().insert(p, child, Some(element.id)),
            None => self.append(prev_element, child),
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, _target: &Handle) -> Handle {
        self.handle(Data::Other, no_name())
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x.id == y.id
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        let parent = self.0.borrow().nodes[sibling.id].parent;
        if let Some(p) = parent {
            self.0.borrow_mut().insert(p, new_node, Some(sibling.id));
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        if let Data::Element(e) = &mut self.0.borrow_mut().nodes[target.id].data {
            for a in attrs {
                if !e.attrs.iter().any(|b| b.name == a.name) {
                    e.attrs.push(a);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.0.borrow_mut().detach(target.id);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let mut dom = self.0.borrow_mut();
        while let Some(child) = dom.nodes[node.id].first {
            dom.detach(child);
            dom.link(new_parent.id, child, None);
        }
    }
}
