//! Charts and the page: placeholder until the renderer lands.
