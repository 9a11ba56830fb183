"""The click layer of fashiondata (installed as package ``fashiondata_cli``)."""
