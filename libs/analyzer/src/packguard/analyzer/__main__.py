from packguard.analyzer.cli import main

raise SystemExit(main())
