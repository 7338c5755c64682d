complete --keep-order --exclusive --command selkie --arguments "(SELKIE_COMPLETE=fish selkie -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
