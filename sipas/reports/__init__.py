"""The monthly report (Excel, PDF, Word) and the charts it shares with the analysis page."""
