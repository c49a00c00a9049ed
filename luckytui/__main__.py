from luckytui.cli import main

raise SystemExit(main())
