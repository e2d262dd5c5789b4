"""Board views: CONSTRUCT queries → networkx graphs → page data, analysis, figures and the board pack."""
