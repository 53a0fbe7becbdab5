"""paperbot's classifier: embeddings, features and the model that files papers under a label."""
