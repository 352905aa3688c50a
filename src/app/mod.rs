//! The web page (Leptos, client-side rendering).

use leptos::prelude::*;

use crate::classes::FractureClass;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="masthead">
            <h1>"Bone fracture classifier"</h1>
            <p class="tagline">
                "A convolutional network, written in Rust with Burn, that sorts X-rays into ten fracture types — in your browser."
            </p>
            <p class="notice">"Research demo, not a medical device."</p>
        </header>
        <main>
            <section class="classes">
                <h2>"The ten fracture types"</h2>
                <ul>
                    {FractureClass::ALL
                        .iter()
                        .map(|class| view! { <li><strong>{class.folder_name()}</strong>" — "{class.description()}</li> })
                        .collect_view()}
                </ul>
            </section>
        </main>
        <footer>
            "Data: Bone Break Classification Image Dataset (Kaggle, pkdarabi; Roboflow export), CC BY 4.0."
        </footer>
    }
}
