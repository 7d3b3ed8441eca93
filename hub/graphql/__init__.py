"""The GraphQL edge: HTTP in (GraphQL over HTTP), cached documents, execution, errors out."""
